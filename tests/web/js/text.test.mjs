// Pure text helpers of the page (web/text.js): search folding and HTML escaping.
import test from "node:test";
import assert from "node:assert/strict";
import { escapeHtml, fold } from "../../../web/text.js";

test("search folds diacritics, đ and spacing like geo/text.py", () => {
  assert.equal(fold("Đức  Xuân"), "duc xuan");
  assert.equal(fold("Phường Nguyễn Thị Minh Khai"), "phuong nguyen thi minh khai");
  // NFD input (combining marks) folds the same as NFC.
  assert.equal(fold("Ca\u0302\u0300m Gia\u0300ng"), fold("Cầm Giàng"));
});

test("names from files are escaped before they reach the page", () => {
  assert.equal(escapeHtml('<img src=x onerror="alert(1)">'), "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  assert.equal(escapeHtml(null), "");
});
