// A small drawing tool on MapLibre for polygons, lines and points: click to add vertices,
// double-click (or click the first vertex of a polygon) to finish, drag a vertex to move it. Points snap to the nearest unit vertex
// within SNAP_PX pixels, else to the nearest point of a unit boundary, using the features of
// the rendered unit tiles (so snapping follows what the user sees).

export const SNAP_PX = 10;
const EMPTY = { type: "FeatureCollection", features: [] };
// Fewest vertices a finished geometry of each mode has.
const MIN_VERTICES = { polygon: 3, line: 2, point: 1 };

function nearestOnSegment(p, a, b) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  const s = lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSq));
  return { x: a.x + s * dx, y: a.y + s * dy };
}

function ringsOf(geometry) {
  if (geometry.type === "Polygon") return geometry.coordinates;
  if (geometry.type === "MultiPolygon") return geometry.coordinates.flat();
  if (geometry.type === "LineString") return [geometry.coordinates];
  if (geometry.type === "MultiLineString") return geometry.coordinates;
  return [];
}

export class DrawTool {
  /**
   * map: the MapLibre map; snapLayers: layer ids whose features are snap targets;
   * onChange(polygon | null): called with a GeoJSON Polygon when finished or edited.
   */
  constructor(map, { snapLayers, onChange, isSnapOn = () => true }) {
    this.map = map;
    this.snapLayers = snapLayers;
    this.onChange = onChange;
    this.isSnapOn = isSnapOn;
    this.vertices = [];        // [lng, lat]
    this.mode = "polygon";     // polygon | line | point
    this.state = "idle";       // idle | drawing | editing
    this.cursor = null;
    this.dragIndex = null;
    this.history = [];         // vertex lists before each drag of a finished polygon (Ctrl+Z)
    this.addLayers();
    this.handlers = {
      click: (e) => this.handleClick(e),
      dblclick: (e) => this.handleDoubleClick(e),
      mousemove: (e) => this.handleMove(e),
      mousedown: (e) => this.handleDown(e),
      mouseup: () => this.handleUp(),
    };
    for (const [type, handler] of Object.entries(this.handlers)) map.on(type, handler);
  }

  addLayers() {
    const map = this.map;
    map.addSource("draw", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "draw-fill", type: "fill", source: "draw", filter: ["==", ["get", "role"], "polygon"],
      paint: { "fill-color": "#d7301f", "fill-opacity": 0.18 } });
    map.addLayer({ id: "draw-line", type: "line", source: "draw", filter: ["in", ["get", "role"], ["literal", ["polygon", "path"]]],
      paint: { "line-color": "#d7301f", "line-width": 2.5 } });
    map.addLayer({ id: "draw-preview", type: "line", source: "draw", filter: ["==", ["get", "role"], "preview"],
      paint: { "line-color": "#d7301f", "line-width": 1.5, "line-dasharray": [2, 2] } });
    map.addLayer({ id: "draw-vertex", type: "circle", source: "draw", filter: ["==", ["get", "role"], "vertex"],
      paint: { "circle-radius": 5, "circle-color": "#fff", "circle-stroke-color": "#d7301f", "circle-stroke-width": 2 } });
    map.addLayer({ id: "draw-snap", type: "circle", source: "draw", filter: ["==", ["get", "role"], "snap"],
      paint: { "circle-radius": 7, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#1a1a1a", "circle-stroke-width": 2 } });
  }

  start(mode = "polygon") {
    this.mode = MIN_VERTICES[mode] ? mode : "polygon";
    this.vertices = [];
    this.history = [];
    this.state = "drawing";
    this.map.doubleClickZoom.disable();
    this.map.getCanvas().style.cursor = "crosshair";
    this.render();
    this.onChange(null);
  }

  clear() {
    this.vertices = [];
    this.history = [];
    this.state = "idle";
    this.map.doubleClickZoom.enable();
    this.map.getCanvas().style.cursor = "";
    this.render();
    this.onChange(null);
  }

  /** Stop listening (when leaving the draw tab) but keep the drawn polygon visible. */
  pause() {
    if (this.state === "drawing") this.clear();
    this.paused = true;
  }

  resume() { this.paused = false; }

  /** The drawn GeoJSON geometry of the current mode (Polygon, LineString or Point), or null. */
  geometry() {
    const v = this.vertices;
    if (v.length < MIN_VERTICES[this.mode]) return null;
    if (this.mode === "point") return { type: "Point", coordinates: [...v[0]] };
    if (this.mode === "line") return { type: "LineString", coordinates: v.map((c) => [...c]) };
    return { type: "Polygon", coordinates: [[...v, v[0]].map((c) => [...c])] };
  }

  polygon() { return this.mode === "polygon" ? this.geometry() : null; }

  /** Snapped position (lng/lat) of a screen point, and whether it snapped. */
  snap(point) {
    const map = this.map;
    const fallback = map.unproject(point);
    if (!this.isSnapOn()) return { lngLat: [fallback.lng, fallback.lat], snapped: false };
    const box = [[point.x - SNAP_PX, point.y - SNAP_PX], [point.x + SNAP_PX, point.y + SNAP_PX]];
    const layers = this.snapLayers.filter((id) => map.getLayer(id));
    const features = layers.length ? map.queryRenderedFeatures(box, { layers }) : [];
    let bestVertex = null;
    let bestVertexDistance = SNAP_PX;
    let bestEdge = null;
    let bestEdgeDistance = SNAP_PX;
    // Own vertices are snap targets too, so a new vertex can close onto an existing one.
    const ownRings = this.vertices.length ? [this.vertices] : [];
    const rings = features.flatMap((f) => ringsOf(f.geometry)).concat(ownRings);
    for (const ring of rings) {
      let previous = null;
      for (const coordinate of ring) {
        const screen = map.project(coordinate);
        const distance = Math.hypot(screen.x - point.x, screen.y - point.y);
        if (distance <= bestVertexDistance) { bestVertexDistance = distance; bestVertex = coordinate; }
        if (previous) {
          const onEdge = nearestOnSegment(point, previous, screen);
          const edgeDistance = Math.hypot(onEdge.x - point.x, onEdge.y - point.y);
          if (edgeDistance < bestEdgeDistance) { bestEdgeDistance = edgeDistance; bestEdge = onEdge; }
        }
        previous = screen;
      }
    }
    if (bestVertex) return { lngLat: [bestVertex[0], bestVertex[1]], snapped: "vertex" };
    if (bestEdge) {
      const lngLat = map.unproject([bestEdge.x, bestEdge.y]);
      return { lngLat: [lngLat.lng, lngLat.lat], snapped: "edge" };
    }
    return { lngLat: [fallback.lng, fallback.lat], snapped: false };
  }

  handleClick(e) {
    if (this.paused || this.state !== "drawing") return;
    const { lngLat } = this.snap(e.point);
    if (this.mode === "point") {
      this.vertices = [lngLat];
      this.finish();
      return;
    }
    if (this.mode === "polygon" && this.vertices.length >= 3) {
      const first = this.map.project(this.vertices[0]);
      if (Math.hypot(first.x - e.point.x, first.y - e.point.y) <= SNAP_PX) { this.finish(); return; }
    }
    const last = this.vertices[this.vertices.length - 1];
    if (last) {
      // The two clicks of a double-click land on the same spot: keep one vertex.
      const lastScreen = this.map.project(last);
      if (Math.hypot(lastScreen.x - e.point.x, lastScreen.y - e.point.y) < 3) return;
    }
    this.vertices.push(lngLat);
    this.render();
  }

  /**
   * Keyboard while drawing: Esc cancels the polygon, Backspace or Ctrl+Z removes the last vertex;
   * on a finished polygon Ctrl+Z undoes the last vertex drag. Returns true when the key was used.
   */
  handleKey(event) {
    if (this.paused) return false;
    const undoKey = (event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === "z";
    if (this.state === "drawing") {
      if (event.key === "Escape") { this.clear(); return true; }
      if (event.key === "Backspace" || undoKey) {
        if (!this.vertices.length) return true;
        this.vertices.pop();
        this.render();
        return true;
      }
    } else if (this.state === "editing" && undoKey && this.history.length) {
      this.vertices = this.history.pop();
      this.render();
      this.onChange(this.geometry());
      return true;
    }
    return false;
  }

  handleDoubleClick(e) {
    if (this.paused || this.state !== "drawing") return;
    e.preventDefault();
    this.finish();
  }

  finish() {
    if (this.vertices.length < MIN_VERTICES[this.mode]) return;
    this.state = "editing";
    this.cursor = null;
    this.map.getCanvas().style.cursor = "";
    // Re-enable later so the finishing double-click is not also taken as a zoom.
    setTimeout(() => this.map.doubleClickZoom.enable(), 300);
    this.render();
    this.onChange(this.geometry());
  }

  handleMove(e) {
    if (this.paused) return;
    if (this.state === "drawing") {
      const snapped = this.snap(e.point);
      this.cursor = snapped;
      this.render();
    } else if (this.state === "editing" && this.dragIndex !== null) {
      this.vertices[this.dragIndex] = this.snap(e.point).lngLat;
      this.render();
    } else if (this.state === "editing") {
      const hit = this.map.queryRenderedFeatures(e.point, { layers: ["draw-vertex"] });
      this.map.getCanvas().style.cursor = hit.length ? "move" : "";
    }
  }

  handleDown(e) {
    if (this.paused || this.state !== "editing") return;
    const box = [[e.point.x - 6, e.point.y - 6], [e.point.x + 6, e.point.y + 6]];
    const hit = this.map.queryRenderedFeatures(box, { layers: ["draw-vertex"] });
    if (!hit.length) return;
    e.preventDefault();
    this.history.push(this.vertices.map((v) => [...v]));
    this.dragIndex = hit[0].properties.index;
    this.map.dragPan.disable();
  }

  handleUp() {
    if (this.dragIndex === null) return;
    this.dragIndex = null;
    this.map.dragPan.enable();
    this.render();
    this.onChange(this.geometry());
  }

  render() {
    const features = [];
    const v = this.vertices;
    if (this.state === "editing" && this.mode === "polygon" && v.length >= 3) {
      features.push({ type: "Feature", properties: { role: "polygon" }, geometry: this.geometry() });
    } else if (v.length >= 2) {
      features.push({ type: "Feature", properties: { role: "path" }, geometry: { type: "LineString", coordinates: v } });
    }
    if (this.state === "drawing" && this.cursor && v.length) {
      const preview = [v[v.length - 1], this.cursor.lngLat];
      if (v.length >= 2 && this.mode === "polygon") preview.push(v[0]);
      features.push({ type: "Feature", properties: { role: "preview" }, geometry: { type: "LineString", coordinates: preview } });
    }
    if (this.state === "drawing" && this.cursor && this.cursor.snapped) {
      features.push({ type: "Feature", properties: { role: "snap" }, geometry: { type: "Point", coordinates: this.cursor.lngLat } });
    }
    v.forEach((coordinate, index) => features.push({
      type: "Feature", properties: { role: "vertex", index }, geometry: { type: "Point", coordinates: coordinate },
    }));
    this.map.getSource("draw").setData({ type: "FeatureCollection", features });
  }
}
