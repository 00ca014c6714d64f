// Intake: a tap on the map fills the pickup point, a second the delivery point (both editable).
(function () {
  "use strict";
  var el = document.getElementById("pickmap");
  if (!el || !window.L) return;
  var map = L.map(el).setView([+el.dataset.lat, +el.dataset.lon], 12);
  var form = document.getElementById("intake"), which = "pickup", marks = {};
  map.on("click", function (e) {
    var lon = e.latlng.lng.toFixed(6), lat = e.latlng.lat.toFixed(6);
    form.elements[which + "_lon"].value = lon;
    form.elements[which + "_lat"].value = lat;
    if (marks[which]) map.removeLayer(marks[which]);
    marks[which] = L.circleMarker(e.latlng, {radius: 7, color: which === "pickup" ? "#1f77b4" : "#d62728"})
      .addTo(map).bindTooltip(which);
    which = which === "pickup" ? "delivery" : "pickup";
  });
})();
