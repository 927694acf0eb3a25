// tfd explore: start fetching what the page loads one after another once solara's front end
// has started (the widget libraries, the grid layout, ECharts), so that those fetches overlap
// with it instead of queueing behind it: about 0.5 s less before the charts draw on a first
// visit here. Solara puts this file in every page's head; the paths are those of the pinned
// solara (1.58.2) and solara-assets.
(function () {
  [
    "/jupyter/nbextensions/jupyter-vuetify/nodeps.js",
    "/jupyter/nbextensions/jupyter-vue/nodeps.js",
    "/_solara/cdn/@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/vue-grid-layout.umd.js",
    "/_solara/cdn/echarts@5.4.0/dist/echarts.min.js",
  ].forEach(function (href) {
    var link = document.createElement("link");
    link.rel = "preload";
    link.as = "script";
    link.href = (window.solara && window.solara.rootPath || "") + href;
    document.head.appendChild(link);
  });
})();
