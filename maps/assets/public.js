/* bianmin citizens' map: outlets, items, search, nearest first, open now, navigation.
   Data comes from window.BM_DATA (built by maps/publicdata.py). Every text from the data is
   put on the page with textContent or DOM attributes, never parsed as HTML. */
(function () {
  "use strict";
  var D = window.BM_DATA;
  var N = D.outlets.length;
  function T(key, vars) {
    var s = D.T[key] || key;
    if (vars) { Object.keys(vars).forEach(function (k) { s = s.split("{" + k + "}").join(vars[k]); }); }
    return s;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function kindOf(k) { return Object.prototype.hasOwnProperty.call(D.kinds, k) ? k : "other"; }
  function norm(s) { return String(s || "").toLowerCase().replace(/\s+/g, ""); }

  // ---------------------------------------------------------------- items and groups
  var groupHas = D.groups.map(function (members) {
    var f = new Uint8Array(N);
    members.forEach(function (i) { f[i] = 1; });
    return f;
  });
  var items = D.items.map(function (it, j) {
    return { j: j, name: it.n, cat: it.c, keys: [norm(it.n), norm(it.c), it.p, it.i, it.cp, it.ci],
             g: it.g, gg: it.gg };
  });
  var outlets = D.outlets.map(function (o, i) {
    return { i: i, o: o, keys: [norm(o.n), norm(o.a), o.p, o.i] };
  });
  function itemsOf(i) {
    return items.filter(function (it) { return groupHas[it.g] && groupHas[it.g][i]; });
  }

  // ---------------------------------------------------------------- opening hours
  var hol = {}, work = {};
  D.calendar.holidays.forEach(function (d) { hol[d] = true; });
  D.calendar.workdays.forEach(function (d) { work[d] = true; });
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function isoDay(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function intervals(s, d) {
    var key = isoDay(d);
    if (hol[key]) { return s.h || []; }
    if (work[key]) {
      for (var k = 0; k < 5; k++) { if (s.d[k].length) { return s.d[k]; } }
      return [];
    }
    return s.d[(d.getDay() + 6) % 7];
  }
  function status(i, now) {
    var si = D.outlets[i].s;
    if (si === undefined || si < 0) { return null; }
    var ivs = intervals(D.schedules[si], now);
    if (!ivs.length) { return "off"; }
    var m = now.getHours() * 60 + now.getMinutes();
    for (var k = 0; k < ivs.length; k++) { if (ivs[k][0] <= m && m < ivs[k][1]) { return "open"; } }
    return "closed";
  }
  function badge(i) {
    var st = status(i, new Date());
    if (!st) { return null; }
    var b = el("span", "bm-badge bm-" + st, T(st));
    b.setAttribute("data-status", st);
    return b;
  }

  // ---------------------------------------------------------------- distance
  var user = null;  // [lon, lat] WGS-84 when located
  function origin() {
    if (user) { return user; }
    var c = map.getCenter();
    return [c.lng - D.shift[0], c.lat - D.shift[1]];
  }
  function metres(a, b) {
    var r = Math.PI / 180, dLat = (b[1] - a[1]) * r, dLon = (b[0] - a[0]) * r;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) + Math.cos(a[1] * r) * Math.cos(b[1] * r) *
      Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function distText(m) {
    return m < 1000 ? Math.round(m) + " " + T("m") : (m / 1000).toFixed(1) + " " + T("km");
  }
  function walkMinutes(m) { return Math.max(1, Math.ceil(m * 1.3 / 75)); }  // 4.5 km/h, x1.3 detour

  // ---------------------------------------------------------------- navigation links
  function navLinks(o) {
    var box = el("div", "bm-nav");
    box.appendChild(el("span", "bm-nav-label", T("nav")));
    var enc = encodeURIComponent(o.n);
    var links = [
      ["bm-nav-amap", T("amap"), "https://uri.amap.com/marker?position=" + o.gl[0] + "," + o.gl[1] +
        "&name=" + enc + "&coordinate=gaode&callnative=1"],
      ["bm-nav-baidu", T("baidu"), "https://api.map.baidu.com/marker?location=" + o.bl[1] + "," +
        o.bl[0] + "&title=" + enc + "&content=" + enc + "&output=html&coord_type=bd09ll" +
        "&src=webapp.bianmin"],
      ["bm-nav-geo", T("geo"), "geo:" + o.ll[1] + "," + o.ll[0] + "?q=" + o.ll[1] + "," + o.ll[0] +
        "(" + enc + ")"]
    ];
    links.forEach(function (l) {
      var a = el("a", "bm-navlink " + l[0], l[1]);
      a.setAttribute("href", l[2]);
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
      box.appendChild(a);
    });
    return box;
  }
  function row(table, label, value) {
    if (value === null || value === undefined || value === "") { return; }
    var tr = el("tr");
    tr.appendChild(el("th", null, label));
    var td = el("td");
    if (typeof value === "string") { td.textContent = value; } else { td.appendChild(value); }
    tr.appendChild(td);
    table.appendChild(tr);
  }
  function phoneLink(p) {
    if (!p) { return ""; }
    var a = el("a", null, p);
    a.setAttribute("href", "tel:" + String(p).replace(/[^0-9+]/g, ""));
    return a;
  }

  // ---------------------------------------------------------------- popups
  function popup(i) {
    var o = D.outlets[i];
    var div = el("div", "bm-popup");
    div.setAttribute("data-outlet-id", o.id);
    div.appendChild(el("h3", null, o.n));
    var k = el("div", "bm-kind", D.kinds[kindOf(o.k)].label);
    var b = badge(i);
    if (b) { k.appendChild(document.createTextNode(" ")); k.appendChild(b); }
    div.appendChild(k);
    var t = el("table");
    row(t, T("address"), o.a);
    row(t, T("phone"), phoneLink(o.t));
    row(t, T("hours"), o.h);
    div.appendChild(t);
    var its = itemsOf(i);
    if (its.length) {
      div.appendChild(el("b", null, T("handles")));
      var ul = el("ul", "bm-handles");
      its.slice(0, 12).forEach(function (it) { ul.appendChild(el("li", null, it.name)); });
      if (its.length > 12) { ul.appendChild(el("li", "bm-more", T("more", { n: its.length - 12 }))); }
      div.appendChild(ul);
    }
    div.appendChild(navLinks(o));
    return div;
  }

  // ---------------------------------------------------------------- the map
  var map = L.map("bm-map", { zoomControl: true, maxZoom: 18, minZoom: 3 });
  map.fitBounds(D.bounds);
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(D.attribution);
  function notice(text) {
    var n = document.getElementById("bm-notice");
    n.textContent = text;
    n.hidden = false;
    setTimeout(function () { n.hidden = true; }, 6000);
  }
  function decode(str) {
    var out = [], i = 0, lat = 0, lon = 0;
    while (i < str.length) {
      var vals = [0, 0];
      for (var k = 0; k < 2; k++) {
        var shift = 0, result = 0, b;
        do { b = str.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
        vals[k] = (result & 1) ? ~(result >> 1) : (result >> 1);
      }
      lat += vals[0]; lon += vals[1];
      out.push([lat * 1e-5 + D.shift[1], lon * 1e-5 + D.shift[0]]);
    }
    return out;
  }
  var roadsShown = false;
  function showRoads() {
    if (roadsShown) { return; }
    roadsShown = true;
    document.body.classList.add("bm-roads-shown");
    var lines = (D.roads.major || []).map(decode);
    if (lines.length) {
      L.polyline(lines, { color: "#9a9a9a", weight: 2.5, opacity: 0.9, interactive: false,
                          className: "bm-road" }).addTo(map);
    }
  }
  var tileFailed = false;
  D.tiles.forEach(function (t) {
    var layer = L.tileLayer(t.url, { subdomains: t.subdomains, attribution: t.attribution,
                                     maxZoom: 18, minZoom: 3 });
    layer.on("tileerror", function () {
      if (tileFailed) { return; }
      tileFailed = true;
      notice(T("tiles_failed"));
      showRoads();
    });
    layer.addTo(map);
  });
  if (!D.tiles.length) { showRoads(); }

  // BM_SHOWN_MS: two frames after the cluster group has put its last chunk of markers on the
  // map (the first frame paints them), the figure benchmarks/bench_map.py reports
  function markersDone() {
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { window.BM_SHOWN_MS = performance.now(); });
    });
  }
  var cluster = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false,
                                       spiderfyOnMaxZoom: true, chunkedLoading: true,
                                       disableClusteringAtZoom: 17,
                                       chunkProgress: function (done, total) {
                                         if (done === total) { markersDone(); }
                                       } });
  var big = window.innerWidth < 600;
  var markers = D.outlets.map(function (o, i) {
    var size = big ? 36 : 30;
    var icon = L.divIcon({ className: "bm-outlet bm-kind-" + kindOf(o.k), html: "",
                           iconSize: [size, size], iconAnchor: [size / 2, size / 2],
                           popupAnchor: [0, -size / 2] });
    var m = L.marker([o.xy[1], o.xy[0]], { icon: icon, title: o.n, alt: o.n, keyboard: true });
    m.bindPopup(function () { return popup(i); },
                { maxWidth: Math.max(180, Math.min(320, window.innerWidth - 40)),
                  autoPanPadding: [16, 16] });
    return m;
  });
  cluster.addLayers(markers);
  map.addLayer(cluster);
  function openOutlet(i) {
    var m = markers[i];
    cluster.zoomToShowLayer(m, function () { m.openPopup(); });
    if (window.innerWidth < 600) { document.body.classList.remove("bm-list-open"); }
  }

  // ---------------------------------------------------------------- the grid: network minutes
  var grid = D.grid || null;
  if (grid) {
    var acc = 0;
    grid.flat = grid.cells.map(function (d) { acc += d; return acc; });
  }
  function gridCell(ll) {
    if (!grid) { return -1; }
    var ix = Math.floor((ll[0] - grid.lon0) / grid.dlon), iy = Math.floor((ll[1] - grid.lat0) / grid.dlat);
    if (ix < 0 || iy < 0 || ix >= grid.nx || iy >= grid.ny) { return -1; }
    var key = iy * grid.nx + ix, lo = 0, hi = grid.flat.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (grid.flat[mid] === key) { return mid; }
      if (grid.flat[mid] < key) { lo = mid + 1; } else { hi = mid - 1; }
    }
    return -1;
  }
  function showNearest(it) {
    var box = document.getElementById("bm-nearest");
    box.hidden = true;
    box.textContent = "";
    if (!user || !it || it.gg === undefined || !grid) { return; }
    var c = gridCell(user);
    if (c < 0) { return; }
    var o = grid.o[it.gg][c], m = grid.m[it.gg][c];
    if (o < 0 || m < 0) { return; }
    var mode = typeof grid.mode === "string" ? grid.mode : grid.mode[c];
    box.textContent = T("nearest", { o: D.outlets[o].n, n: Math.max(1, m),
                                     mode: D.modes[mode] || mode });
    box.setAttribute("data-outlet-id", D.outlets[o].id);
    box.hidden = false;
  }

  // ---------------------------------------------------------------- search and the list
  var q = document.getElementById("bm-q");
  var list = document.getElementById("bm-list");
  var chips = document.getElementById("bm-items");
  var picked = null;
  var shown = 30;
  var current = [];
  function matches(keys, s) {
    for (var k = 0; k < keys.length; k++) { if (keys[k] && keys[k].indexOf(s) >= 0) { return true; } }
    return false;
  }
  function entry(i, d) {
    var o = D.outlets[i];
    var li = el("li", "bm-entry");
    li.setAttribute("data-outlet-id", o.id);
    var head = el("button", "bm-entry-name", o.n);
    head.setAttribute("type", "button");
    head.addEventListener("click", function () { openOutlet(i); });
    li.appendChild(head);
    var meta = el("div", "bm-meta", D.kinds[kindOf(o.k)].label);
    var b = badge(i);
    if (b) { meta.appendChild(document.createTextNode(" · ")); meta.appendChild(b); }
    li.appendChild(meta);
    var dist = el("div", "bm-dist", distText(d) + " · " + T("walk_est", { n: walkMinutes(d) }));
    dist.setAttribute("data-metres", String(Math.round(d)));
    li.appendChild(dist);
    if (o.a) { li.appendChild(el("div", "bm-addr", o.a)); }
    li.appendChild(navLinks(o));
    return li;
  }
  function renderList() {
    list.textContent = "";
    var frag = document.createDocumentFragment();
    current.slice(0, shown).forEach(function (r) { frag.appendChild(entry(r[0], r[1])); });
    if (current.length > shown) {
      var more = el("button", "bm-more-btn", T("more", { n: current.length - shown }));
      more.setAttribute("type", "button");
      more.addEventListener("click", function () { shown += 30; renderList(); });
      var li = el("li", "bm-more-row");
      li.appendChild(more);
      frag.appendChild(li);
    }
    if (!current.length && norm(q.value)) { frag.appendChild(el("li", "bm-empty", T("no_result"))); }
    list.appendChild(frag);
  }
  function sortOutlets(idx) {
    var from = origin();
    current = idx.map(function (i) { return [i, metres(from, D.outlets[i].ll)]; });
    current.sort(function (a, b) { return a[1] - b[1] || (a[0] - b[0]); });
    shown = 30;
    renderList();
  }
  function renderChips(its) {
    chips.textContent = "";
    its.slice(0, 12).forEach(function (it) {
      var c = el("button", "bm-chip" + (picked === it ? " bm-picked" : ""), it.name);
      c.setAttribute("type", "button");
      c.setAttribute("data-item", String(it.j));
      if (it.cat) { c.setAttribute("title", it.cat); }
      c.addEventListener("click", function () { pick(it); });
      chips.appendChild(c);
    });
  }
  function pick(it) {
    picked = it;
    q.value = it.name;
    renderChips([it]);
    sortOutlets(D.groups[it.g] ? D.groups[it.g].slice() : []);
    showNearest(it);
  }
  function search() {
    var t0 = performance.now();
    var raw = q.value.trim(), s = norm(raw);
    picked = null;
    showNearest(null);
    if (!s) {
      renderChips([]);
      sortOutlets(outlets.map(function (r) { return r.i; }));
    } else {
      var its = items.filter(function (it) { return matches(it.keys, s); });
      var exact = its.filter(function (it) { return it.name === raw || it.keys[2] === s || it.keys[3] === s; });
      if (exact.length === 1 || its.length === 1) {
        pick(exact.length === 1 ? exact[0] : its[0]);
      } else {
        renderChips(its);
        var hit = new Uint8Array(N);
        its.forEach(function (it) { D.groups[it.g].forEach(function (i) { hit[i] = 1; }); });
        outlets.forEach(function (r) { if (matches(r.keys, s)) { hit[r.i] = 1; } });
        var idx = [];
        for (var i = 0; i < N; i++) { if (hit[i]) { idx.push(i); } }
        sortOutlets(idx);
      }
    }
    window.BM_LAST_SEARCH_MS = performance.now() - t0;
  }
  q.addEventListener("input", search);

  // ---------------------------------------------------------------- locating the user
  var userMarker = null;
  var statusBox = document.getElementById("bm-status");
  var locate = document.getElementById("bm-locate");
  locate.textContent = T("locate");
  locate.addEventListener("click", function () {
    if (!navigator.geolocation) { statusBox.textContent = T("locate_failed"); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      user = [pos.coords.longitude, pos.coords.latitude];
      var at = [user[1] + D.shift[1], user[0] + D.shift[0]];
      if (userMarker) { map.removeLayer(userMarker); }
      userMarker = L.circleMarker(at, { radius: 8, color: "#fff", weight: 2, fillColor: "#1a73e8",
                                        fillOpacity: 1, className: "bm-user" }).addTo(map);
      map.setView(at, Math.max(map.getZoom(), 15));
      statusBox.textContent = T("located");
      if (picked) { pick(picked); } else { search(); }
    }, function () {
      statusBox.textContent = T("locate_failed");
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  });
  var toggle = document.getElementById("bm-toggle");
  toggle.textContent = T("list");
  toggle.addEventListener("click", function () {
    var open = document.body.classList.toggle("bm-list-open");
    toggle.textContent = open ? T("map") : T("list");
    setTimeout(function () { map.invalidateSize(); }, 50);
  });
  document.getElementById("bm-title").textContent = D.title;
  document.title = D.title;
  if (D.illustrative) { statusBox.textContent = T("illustrative"); }
  search();

  window.BM_PUBLIC = { map: map, cluster: cluster, markers: markers, status: status,
                       openOutlet: openOutlet, gridCell: gridCell };
  window.BM_READY = true;
  if (!N) { markersDone(); }
})();
