document.body.insertAdjacentHTML("beforeend", "<p id=\"loaded\">Loaded at " + new Date().toLocaleTimeString() + ".</p>");
