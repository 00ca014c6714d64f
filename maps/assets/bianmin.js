/* bianmin service map: markers, popups and legend. Config comes from window.BM_CONFIG.
   Every text from the data goes through BM.esc before it meets innerHTML; the SVG icons and
   colours are the project's own constants. */
(function () {
  "use strict";
  var BM = {};
  function cfg() { return window.BM_CONFIG; }
  function t(key) { return cfg().T[key] || key; }
  BM.esc = function (s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  BM.fmt = function (n) {
    if (n === null || n === undefined || n !== n) { return "—"; }
    return Math.round(n).toLocaleString(cfg().lang === "zh" ? "zh-CN" : "en-GB");
  };
  BM.kind = function (k) { return cfg().kinds[k] || cfg().kinds.other; };
  // popups open below the search box and the zoom buttons, never under them
  // and fit between the left-hand buttons and the right edge of a phone
  BM.popupOptions = { maxWidth: Math.max(160, Math.min(300, window.innerWidth - 110)),
                      autoPanPaddingTopLeft: [50, 70], autoPanPaddingBottomRight: [12, 20] };

  BM.outletIcon = function (kind) {
    var k = BM.kind(kind);
    // an empty div painted by a per-kind CSS background: one decoded SVG per kind, not one
    // SVG document per marker (2,000 inline SVGs took seconds to lay out)
    return L.divIcon({ className: "bm-outlet bm-kind-" + (k === BM.kind(kind) &&
                       cfg().kinds[kind] ? kind : "other"), html: "",
                       iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -14] });
  };
  BM.row = function (label, value) {
    if (value === null || value === undefined || value === "") { return ""; }
    return "<tr><th>" + BM.esc(label) + "</th><td>" + value + "</td></tr>";
  };
  BM.outletPopup = function (p) {
    var k = BM.kind(p.kind);
    var services = String(p.services || "").split(/[;；]/).filter(function (s) {
      return s.trim() !== "";
    }).map(function (s) { return "<li>" + BM.esc(s.trim()) + "</li>"; }).join("");
    var phone = p.phone ? '<a href="tel:' + BM.esc(String(p.phone).replace(/[^0-9+]/g, "")) +
      '">' + BM.esc(p.phone) + "</a>" : "";
    var html = '<div class="bm-popup"><h3>' + BM.esc(p.name) + "</h3>" +
      '<div class="bm-kind" style="color:' + k.colour + '">' + BM.esc(k.label) + "</div><table>" +
      BM.row(t("address"), BM.esc(p.address)) + BM.row(t("phone"), phone) +
      BM.row(t("hours"), BM.esc(p.hours)) +
      BM.row(t("circle"), BM.esc(p.circle_label)) +
      BM.row(t("population"), p.population === null || p.population === undefined ? "" :
             BM.fmt(p.population) + " " + BM.esc(t("people"))) +
      "</table>" + (services ? "<div><b>" + BM.esc(t("services")) + "</b><ul>" + services +
      "</ul></div>" : "") +
      (p.new_items ? '<div class="bm-new-items">' + BM.esc(t("new_items")) + ": " +
        BM.esc(p.new_items) + "</div>" : "") +
      (p.illustrative ? '<div class="bm-note">' + BM.esc(t("illustrative")) + "</div>" : "") +
      "</div>";
    return html;
  };
  BM.outletPoint = function (feature, latlng) {
    var p = feature.properties;
    var icon = BM.outletIcon(p.kind);
    if (p.new_items) {  // a delegation gives this outlet new items: a badge on the marker
      icon = L.divIcon({ className: icon.options.className + " bm-delegated", html: "",
                         iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -14] });
    }
    return L.marker(latlng, { icon: icon, title: p.name, alt: p.name, riseOnHover: true });
  };
  BM.outletEach = function (feature, layer) {
    layer.bindPopup(function () { return BM.outletPopup(feature.properties); },
                    BM.popupOptions);
  };

  BM.proposalPoint = function (feature, latlng) {
    var p = feature.properties;
    var icon = L.divIcon({ className: "bm-proposal", html: cfg().proposal_svg,
                           iconSize: [30, 30], iconAnchor: [15, 15], popupAnchor: [0, -15] });
    return L.marker(latlng, { icon: icon, title: p.name, alt: p.name });
  };
  BM.proposalEach = function (feature, layer) {
    var p = feature.properties;
    layer.bindPopup(function () {
      return '<div class="bm-popup"><h3>' + BM.esc(p.name) + "</h3><div class=\"bm-kind\">" +
        BM.esc(t("proposals")) + " · " + BM.esc(BM.kind(p.kind).label) + "</div><table>" +
        BM.row(t("rank"), BM.esc(p.rank)) +
        BM.row(t("added"), BM.fmt(p.added_population) + " " + BM.esc(t("people"))) +
        "</table></div>";
    }, BM.popupOptions);
  };

  BM.uncoveredPoint = function (feature, latlng) {
    var pop = feature.properties.population || 0;
    return L.circleMarker(latlng, { radius: Math.min(8, 2 + Math.sqrt(pop) / 15),
      color: "#b2182b", weight: 0.8, fillColor: "#ef3b2c", fillOpacity: 0.45 });
  };
  BM.uncoveredEach = function (feature, layer) {
    var p = feature.properties;
    layer.bindPopup(function () {
      var m = (p.minutes === null || p.minutes === undefined) ? BM.esc(t("unreachable")) :
        BM.esc(p.minutes.toFixed(1) + " " + t("minutes"));
      return '<div class="bm-popup"><h3>' + BM.esc(t("uncovered")) + "</h3><table>" +
        BM.row(t("population"), BM.fmt(p.population) + " " + BM.esc(t("people"))) +
        BM.row(t("nearest"), m) + BM.row(t("circle"), BM.esc(p.circle_label)) +
        BM.row(t("areas"), BM.esc(p.area)) + "</table></div>";
    }, BM.popupOptions);
  };

  // uncovered population as columns (lon, lat, population, minutes, label/area indexes):
  // a third of the bytes of GeoJSON for 10^4 points
  BM.uncoveredLayer = function (d) {
    var g = L.featureGroup();
    for (var i = 0; i < d.lon.length; i++) {
      var f = { properties: { population: d.pop[i], minutes: d.min[i],
                              circle_label: d.labels[d.label[i]], area: d.areas[d.area[i]] } };
      var m = BM.uncoveredPoint(f, L.latLng(d.lat[i], d.lon[i]));
      BM.uncoveredEach(f, m);
      g.addLayer(m);
    }
    return g;
  };

  // unreachable population (issue #12): one purple ring per point, the reason in the popup
  BM.unreachableLayer = function (d) {
    var g = L.featureGroup();
    for (var i = 0; i < d.lon.length; i++) {
      (function (i) {
        var m = L.circleMarker(L.latLng(d.lat[i], d.lon[i]), {
          radius: Math.min(8, 3 + Math.sqrt(d.pop[i]) / 15), color: "#54278f", weight: 1.5,
          fillColor: "#9e9ac8", fillOpacity: 0.5, className: "bm-unreachable" });
        m.bindPopup(function () {
          return '<div class="bm-popup bm-unreachable-popup"><h3>' +
            BM.esc(t("unreachable_layer")) + "</h3><table>" +
            BM.row(t("population"), BM.fmt(d.pop[i]) + " " + BM.esc(t("people"))) +
            BM.row(t("reason"), BM.esc(d.reason[i])) +
            BM.row(t("detail"), BM.esc(d.detail[i])) +
            BM.row(t("snap"), d.snap[i] === null ? "" : BM.fmt(d.snap[i])) +
            BM.row(t("areas"), BM.esc(d.areas[d.area[i]])) + "</table></div>";
        }, BM.popupOptions);
        g.addLayer(m);
      })(i);
    }
    return g;
  };

  // per-item coverage (issue #14.6): choose an item, see the people outside its circle.
  // d.items (worst first), d.sets[g] = point indices uncovered for the items of outlet set g
  BM.itemLayer = function (map, d) {
    var layer = L.featureGroup().addTo(map);
    var ctl = L.control({ position: "topright" });
    var info;
    function draw(k) {
      layer.clearLayers();
      info.textContent = "";
      info.removeAttribute("data-points");
      info.removeAttribute("data-population");
      if (k === "" || k === null || k === undefined) { return; }
      var it = d.items[+k], idx = d.sets[it.g], p = d.points, total = 0;
      for (var n = 0; n < idx.length; n++) {
        (function (i) {
          total += p.pop[i];
          var m = L.circleMarker(L.latLng(p.lat[i], p.lon[i]), {
            radius: Math.min(8, 2 + Math.sqrt(p.pop[i]) / 15), color: "#7f2704", weight: 0.8,
            fillColor: "#f16913", fillOpacity: 0.6, className: "bm-item-uncovered" });
          m.bindPopup(function () {
            return '<div class="bm-popup"><h3>' + BM.esc(it.n) + "</h3><table>" +
              BM.row(t("item_uncovered"), BM.fmt(p.pop[i]) + " " + BM.esc(t("people"))) +
              BM.row(t("areas"), BM.esc(p.areas[p.area[i]])) + "</table></div>";
          }, BM.popupOptions);
          layer.addLayer(m);
        })(idx[n]);
      }
      info.setAttribute("data-points", String(idx.length));
      info.setAttribute("data-population", String(total));
      info.textContent = t("item_uncovered") + ": " + BM.fmt(total) + " " + t("people") + " (" +
        idx.length + " " + t("points") + ") · " + it.o + " " + t("outlets_n") +
        (it.r === null ? "" : " · " + t("rate") + " " + (100 * it.r).toFixed(1) + "%");
    }
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "bm-items-ctl leaflet-control leaflet-bar");
      var label = L.DomUtil.create("label", "", div);
      label.textContent = t("item_pick");
      var sel = L.DomUtil.create("select", "", label);
      sel.id = "bm-item";
      var none = document.createElement("option");
      none.value = "";
      none.textContent = t("item_none");
      sel.appendChild(none);
      d.items.forEach(function (it, k) {
        var o = document.createElement("option");
        o.value = String(k);
        o.setAttribute("data-item-id", it.id);
        o.textContent = it.n + (it.r === null ? "" : " · " + (100 * it.r).toFixed(0) + "%");
        sel.appendChild(o);
      });
      info = L.DomUtil.create("div", "bm-item-info", div);
      info.id = "bm-item-info";
      sel.addEventListener("change", function () { draw(sel.value); });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(map);
    BM.items = { layer: layer, draw: draw, data: d };
    return layer;
  };

  BM.areaStyle = function (feature) {
    return { color: "#555", weight: 1, fillColor: feature.properties.fill, fillOpacity: 0.35 };
  };
  BM.areaEach = function (feature, layer) {
    var p = feature.properties;
    var rate = (p.coverage_rate === null || p.coverage_rate === undefined) ? "—" :
      (100 * p.coverage_rate).toFixed(1) + "%";
    layer.bindTooltip(BM.esc(p.name) + " · " + BM.esc(t("rate")) + " " + rate, { sticky: true });
  };
  BM.circleStyle = function (feature) {
    var c = BM.kind(feature.properties.kind).colour;
    return { color: c, weight: 1, opacity: 0.7, fillColor: c, fillOpacity: 0.10 };
  };
  BM.networkStyle = function () {
    return { color: "#1f4e79", weight: 2, dashArray: "6 4", fill: false };
  };
  BM.roadStyle = function (feature) {
    return feature.properties.major ? { color: "#8c8c8c", weight: 2.2, opacity: 0.9 }
                                    : { color: "#b5b5b5", weight: 1, opacity: 0.8 };
  };

  // Google's encoded-polyline format (precision 1e-5): the roads of a region in a few 100 kB
  BM.decode = function (str) {
    var out = [], i = 0, lat = 0, lon = 0;
    while (i < str.length) {
      var vals = [0, 0];
      for (var k = 0; k < 2; k++) {
        var shift = 0, result = 0, b;
        do { b = str.charCodeAt(i++) - 63; result |= (b & 31) << shift; shift += 5; }
        while (b >= 32);
        vals[k] = (result & 1) ? ~(result >> 1) : (result >> 1);
      }
      lat += vals[0]; lon += vals[1];
      out.push([lat * 1e-5, lon * 1e-5]);
    }
    return out;
  };
  BM.roads = function (map, data) {
    ["minor", "major"].forEach(function (cls) {
      if (!data[cls] || !data[cls].length) { return; }
      var style = BM.roadStyle({ properties: { major: cls === "major" } });
      style.interactive = false;
      L.polyline(data[cls].map(BM.decode), style).addTo(map);
    });
  };

  BM.legend = function (map) {
    var c = cfg();
    var ctl = L.control({ position: "bottomright" });
    ctl.onAdd = function () {
      var div = L.DomUtil.create("div", "bm-legend leaflet-control");
      var rows = Object.keys(c.kinds_used).map(function (k) {
        return '<div class="bm-row">' + BM.kind(k).svg_small + "<span>" +
          BM.esc(BM.kind(k).label) + "</span></div>";
      }).join("");
      var rates = c.rate_steps.map(function (s) {
        return '<div class="bm-row"><i class="bm-swatch" style="background:' + s[1] +
          '"></i><span>' + BM.esc(s[0]) + "</span></div>";
      }).join("");
      div.innerHTML = "<details" + (window.innerWidth >= 700 ? " open" : "") + "><summary>" +
        BM.esc(c.title) + " · " + BM.esc(t("legend")) + "</summary>" + rows +
        (c.has_proposals ? '<div class="bm-row">' + c.proposal_svg_small + "<span>" +
          BM.esc(t("proposals")) + "</span></div>" : "") +
        '<div class="bm-row"><i class="bm-dot"></i><span>' + BM.esc(t("uncovered")) +
        "</span></div>" +
        '<div class="bm-row"><i class="bm-dash"></i><span>' + BM.esc(t("network_circle")) +
        "</span></div>" + "<div class=\"bm-sub\">" + BM.esc(t("areas")) + "</div>" + rates +
        "<div class=\"bm-sub\">" + BM.esc(c.circles_note) + "</div>" +
        (c.proxy ? '<div class="bm-note">' + BM.esc(t("proxy")) + "</div>" : "") + "</details>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    ctl.addTo(map);
    return ctl;
  };
  BM.init = function (map) {
    map.attributionControl.addAttribution(cfg().attribution);
    L.control.scale({ metric: true, imperial: false }).addTo(map);
    BM.legend(map);
    window.BM_READY = true;
    // the frame after next starts once the markers have been painted
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { window.BM_SHOWN_MS = performance.now(); });
    });
  };
  window.BM = BM;
})();
