// Apply the stored theme (else the OS preference) before first paint, so no flash. A file, not an
// inline script: the Content-Security-Policy (script-src 'self') refuses inline scripts.
(function () {
  var theme = "dark";
  try {
    theme = localStorage.getItem("theme") || (matchMedia("(prefers-color-scheme: light)").matches ? "light" : "dark");
  } catch (e) {}
  document.documentElement.dataset.theme = theme === "light" ? "light" : "dark";
})();
