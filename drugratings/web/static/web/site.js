// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer;
    return function () {
      var args = arguments, self = this;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(self, args); }, ms);
    };
  }

  function setupSuggest(form) {
    var input = form.querySelector("input[type=search]");
    var list = form.querySelector(".suggest");
    if (!input || !list) return;
    var url = form.getAttribute("data-suggest");
    var active = -1;

    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1; }
    function links() { return list.querySelectorAll("a"); }
    function mark(index) {
      var all = links();
      all.forEach(function (a, i) { a.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
    }
    function item(href, text, kind) {
      var li = document.createElement("li");
      li.setAttribute("role", "option");
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      var k = document.createElement("span");
      k.className = "s-kind";
      k.textContent = kind;
      a.appendChild(k);
      li.appendChild(a);
      return li;
    }
    var fetchSuggestions = debounce(function () {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { drugs: [], indications: [] }; })
        .then(function (data) {
          if (input.value.trim() !== q) return;
          list.textContent = "";
          data.drugs.forEach(function (d) {
            var extra = d.brands.length ? " (" + d.brands.join(", ") + ")" : "";
            list.appendChild(item(d.url, d.name + extra, d["class"] || "drug"));
          });
          data.indications.forEach(function (i) {
            list.appendChild(item(i.url, i.name, "indication" + (i.icd10.length ? " " + i.icd10[0] : "")));
          });
          var any = list.children.length > 0;
          list.hidden = !any;
          input.setAttribute("aria-expanded", any ? "true" : "false");
          active = -1;
        })
        .catch(close);
    }, 150);

    input.addEventListener("input", fetchSuggestions);
    input.addEventListener("keydown", function (e) {
      var all = links();
      if (list.hidden || !all.length) return;
      if (e.key === "ArrowDown") { e.preventDefault(); mark((active + 1) % all.length); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark((active - 1 + all.length) % all.length); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); window.location = all[active].href; }
      else if (e.key === "Escape") { close(); }
    });
    document.addEventListener("click", function (e) { if (!form.contains(e.target)) close(); });
  }

  function setupIndicationSuggest(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var other = document.getElementById("ind-other");
    input.addEventListener("focus", function () { if (other) other.checked = true; });
    input.addEventListener("input", debounce(function () {
      var q = input.value.trim();
      if (q.length < 2 || !list) return;
      fetch(input.getAttribute("data-indication-suggest") + "?q=" + encodeURIComponent(q))
        .then(function (r) { return r.json(); })
        .then(function (data) {
          list.textContent = "";
          data.items.forEach(function (i) {
            var o = document.createElement("option");
            o.value = i.name;
            o.label = i.icd10.join(", ");
            list.appendChild(o);
          });
        }).catch(function () {});
    }, 150));
  }

  function setupHelpful(form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = form.querySelector("button");
      fetch(form.action, { method: "POST", body: new FormData(form), headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (typeof data.helpful_count === "number") {
            form.querySelector("[data-count]").textContent = data.helpful_count;
            button.setAttribute("aria-pressed", "true");
            button.disabled = true;
          }
        }).catch(function () { form.submit(); });
    });
  }

  // Installable app: the service worker keeps saved drugs readable offline.
  function setupOffline() {
    var state = document.querySelector(".offline-state");
    function show() { if (state) state.hidden = navigator.onLine; }
    window.addEventListener("online", show);
    window.addEventListener("offline", show);
    show();
    if (!("serviceWorker" in navigator)) return;
    var url = document.body.getAttribute("data-sw");
    navigator.serviceWorker.register(url, { scope: "/" }).catch(function () {});
    navigator.serviceWorker.ready.then(function (reg) {
      var links = document.querySelectorAll("a[data-saved-drug]");
      if (document.querySelector(".saved-list") && reg.active) {
        var urls = Array.prototype.map.call(links, function (a) { return a.getAttribute("href"); });
        reg.active.postMessage({ type: "keep", urls: urls });
      }
      document.querySelectorAll("form[data-forget-offline]").forEach(function (f) {
        f.addEventListener("submit", function () { if (reg.active) reg.active.postMessage({ type: "forget" }); });
      });
    });
    navigator.serviceWorker.addEventListener("message", function (e) {
      if (e.data && e.data.type === "kept") document.documentElement.setAttribute("data-offline-ready", String(e.data.count));
    });
  }

  // The character limit of comment and reply boxes, counted down as the physician types.
  function setupCounter(box) {
    var out = document.getElementById(box.getAttribute("data-counter"));
    var max = parseInt(box.getAttribute("maxlength"), 10);
    if (!out || !max) return;
    function update() {
      var left = max - box.value.length;
      out.textContent = left + " of " + max + " characters left";
      out.classList.toggle("counter-low", left < 100);
    }
    box.addEventListener("input", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupOffline();
    document.querySelectorAll("textarea[data-counter]").forEach(setupCounter);
    document.querySelectorAll("form[data-suggest]").forEach(setupSuggest);
    document.querySelectorAll("input[data-indication-suggest]").forEach(setupIndicationSuggest);
    document.querySelectorAll("form[data-helpful]").forEach(setupHelpful);
    document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
      s.addEventListener("change", function () { s.form.submit(); });
    });
  });
})();
