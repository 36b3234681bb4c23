// The console's former inline event handlers (Flask-Admin's templates had onclick="...",
// which the Content-Security-Policy blocks): the same behaviour by event delegation.
(function () {
  "use strict";
  // Flask-Admin's templates use href="javascript:void(0)" for tabs, pager and dropdown
  // toggles; following such a link is running inline script, which the policy refuses (and
  // reports). Its multi-level dropdown hack stops the click before Bootstrap's own
  // preventDefault, so stop every such navigation here, in the capture phase.
  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (link && /^\s*javascript:/i.test(link.getAttribute("href"))) {
      event.preventDefault();
    }
  }, true);
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    // "Add filter" entries: filters.js adds the filter; the link must not be followed.
    if (target.closest("[data-fa-no-follow]")) {
      event.preventDefault();
    }
    // Bulk actions ("With selected"): Flask-Admin's actions.js asks and submits.
    var action = target.closest("[data-fa-action]");
    if (action) {
      event.preventDefault();
      if (window.modelActions) { window.modelActions.execute(action.getAttribute("data-fa-action")); }
      return;
    }
    // Row delete buttons ask first.
    var confirmButton = target.closest("[data-fa-confirm]");
    if (confirmButton && !window.faHelpers.safeConfirm(confirmButton.getAttribute("data-fa-confirm"))) {
      event.preventDefault();
    }
  });
})();
