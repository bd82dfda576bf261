// Live figures on the overview: server-sent events from /live replace the text of the elements
// they name (no reload). Without JavaScript the page still shows the figures as of its load.
(function () {
  "use strict";
  var box = document.querySelector("[data-live]");
  if (!box || !window.EventSource) { return; }
  var source = new EventSource(box.getAttribute("data-live"));
  source.onmessage = function (event) {
    var figures = JSON.parse(event.data);
    Object.keys(figures.text).forEach(function (id) {
      var el = document.getElementById(id);
      if (el && el.textContent !== figures.text[id]) { el.textContent = figures.text[id]; }
    });
    box.setAttribute("data-as-of", String(figures.as_of));
  };
})();
