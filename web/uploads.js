// "Tải lên dữ liệu": upload a units layer, show its import report, build a scenario on it.

import { api } from "./api.js";
import { datasetLabel, importReportHtml } from "./datasets.js";
import { t } from "./i18n.js";
import { errorText } from "./messages.js";
import { $ } from "./state.js";
import { escapeHtml } from "./text.js";

export let uploadedDataset = null;

export async function openDatasets() {
  $("#dataset-report").hidden = true;
  $("#btn-dataset-scenario").hidden = true;
  $("#dataset-dialog").showModal();
  await renderDatasetList();
}

export async function renderDatasetList() {
  const listing = await api.datasets();
  $("#dataset-list").innerHTML = listing.data.map((d) => `<li data-version="${escapeHtml(d.version)}">${escapeHtml(datasetLabel(d))}${
    d.version === listing.default ? ` <em>${escapeHtml(t("dataset.default"))}</em>` : ""}<br><small>${escapeHtml(t("dataset.source_of", { source: d.source }))}</small></li>`).join("");
}

export async function uploadDataset() {
  const file = $("#dataset-file").files[0];
  const report = $("#dataset-report");
  report.hidden = false;
  report.classList.remove("error");
  $("#btn-dataset-scenario").hidden = true;
  if (!file) { report.textContent = t("dataset.no_file"); report.classList.add("error"); return; }
  report.textContent = t("dataset.uploading");
  $("#btn-dataset-upload").disabled = true;
  try {
    uploadedDataset = await api.uploadDataset(file, {
      name: $("#dataset-name").value.trim(), data_date: $("#dataset-date").value, source: $("#dataset-source").value.trim(),
    });
    report.innerHTML = importReportHtml(uploadedDataset);
    // A district or province layer names scopes, it is not a layer of communes to arrange.
    $("#btn-dataset-scenario").hidden = uploadedDataset.level !== "commune";
    await renderDatasetList();
  } catch (error) {
    report.classList.add("error");
    report.textContent = t("dataset.refused", { reason: errorText(error) });
  } finally {
    $("#btn-dataset-upload").disabled = false;
  }
}
