// Small comforts only: every page works without this file.
// Forms marked data-confirm ask before they are sent (the server checks everything regardless).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
