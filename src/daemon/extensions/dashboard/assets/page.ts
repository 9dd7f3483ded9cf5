/**
 * The dashboard's one page. Every URL in it is relative, so it works at `/` and under Home Assistant ingress's
 * `/api/hassio_ingress/<token>/` alike. The sections are in the HTML, so a phone paints them before the script runs.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>genlock</title>
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<header>
<h1>genlock</h1>
<span id="connection" class="badge">connecting…</span>
<span id="notice" role="status"></span>
</header>
<main>
<section><h2>Bulbs</h2><ul id="bulbs" class="bulbs"></ul></section>
<section><h2>Automations</h2><ul id="automations" class="automations"></ul></section>
<section><h2>Recent runs</h2><ol id="timeline" class="timeline"></ol>
<p class="legend"><i class="seg waiting"></i>waiting <i class="seg running"></i>running <i class="seg suspended"></i>suspended</p></section>
<section><h2>Config problems</h2><ul id="problems" class="problems"></ul></section>
<section><h2>Health</h2><dl id="health" class="health"></dl></section>
</main>
</body>
</html>
`
