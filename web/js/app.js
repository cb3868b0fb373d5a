document.getElementById("app").textContent = "Weft explorer";
