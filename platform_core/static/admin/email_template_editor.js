// Live preview of the store email template editor.
// The page works without this script (the "Preview" button re-renders it on the server);
// with it, the preview follows the typing: the form is posted (with its CSRF token) to the
// preview endpoint, which answers the rendered message or the problems with line numbers.
(function () {
  "use strict";
  var form = document.getElementById("override-form");
  if (!form || !window.fetch) { return; }
  var url = form.getAttribute("data-preview-url");
  var frame = document.getElementById("preview-frame");
  var message = document.getElementById("preview-message");
  var problemsBox = document.getElementById("preview-problems");
  var subject = document.querySelector("[data-preview=subject]");
  var text = document.querySelector("[data-preview=text]");
  var timer = null;
  var sequence = 0;

  function showProblems(problems) {
    var fields = ["subject", "body_html", "body_text"];
    fields.forEach(function (name) {
      var box = form.querySelector("[data-problems-for=" + name + "]");
      var input = form.elements[name];
      var mine = problems.filter(function (p) { return p.field === name; });
      if (!box || !input) { return; }
      box.textContent = "";
      mine.forEach(function (p) {
        var line = document.createElement("div");
        line.textContent = p.message;
        box.appendChild(line);
      });
      box.style.display = mine.length ? "block" : "";
      input.classList.toggle("is-invalid", mine.length > 0);
    });
  }

  function refresh() {
    var mine = ++sequence;
    fetch(url, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.json();
    }).then(function (data) {
      if (mine !== sequence) { return; }  // an older answer arriving late
      if (data.ok) {
        showProblems([]);
        subject.textContent = data.subject;
        frame.srcdoc = data.html;
        text.textContent = data.text;
        message.hidden = false;
        problemsBox.hidden = true;
      } else {
        showProblems(data.problems);
        message.hidden = true;
        problemsBox.hidden = false;
      }
    }).catch(function () { /* keep the last preview; the Preview button still works */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  });
})();
