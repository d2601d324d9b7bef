import Foundation

/// One self-contained HTML file (no network, no external scripts or fonts): a server × client grid
/// per scenario and version with colour and a text mark, filters, and for a clicked grid cell every
/// result in it with parameters, both views, both errors, logs and the replay command.
/// `#open=SERVER>CLIENT` in the URL opens that pair's details on load (what tests use).
public enum HTMLReport {
    public static func render(_ report: Report) -> String {
        let data = (try? report.jsonData()).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let title = JUnitReport.escape("interop-matrix: \(report.matrixName ?? report.matrix)")
        // One pass over the template, so text from the report is never searched for the other placeholder.
        var out = ""
        var rest = Substring(template)
        while let mark = rest.range(of: "__") {
            out += rest[..<mark.lowerBound]
            let after = rest[mark.lowerBound...]
            if after.hasPrefix("__REPORT_JSON__") {
                out += scriptSafe(data)
                rest = after.dropFirst("__REPORT_JSON__".count)
            } else if after.hasPrefix("__UPGRADES__") {
                out += ComparisonReport.upgradeHTML(report)
                rest = after.dropFirst("__UPGRADES__".count)
            } else if after.hasPrefix("__TITLE__") {
                out += title
                rest = after.dropFirst("__TITLE__".count)
            } else {
                out += "__"
                rest = after.dropFirst(2)
            }
        }
        return out + rest
    }

    /// JSON that can sit inside a `<script>` element whatever its strings hold: `<`, `>` and `&` as
    /// `\u` escapes, so neither `</script>` nor `<!--<script>` can move the HTML parser out of the
    /// element's text (HTML, "Restrictions for contents of script elements"), and U+2028/U+2029,
    /// which JSON allows raw but older JavaScript parsers do not. Outside strings JSON has none of
    /// these characters, and inside them the escapes mean the same text.
    static func scriptSafe(_ json: String) -> String {
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for scalar in json.unicodeScalars {
            switch scalar {
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static let template = #"""
    <!DOCTYPE html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>__TITLE__</title>
    <style>
    body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 1.5em; color: #1d2330; }
    h1 { font-size: 1.4em; margin: 0 0 .3em; } h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
    .meta { color: #566; margin-bottom: .8em; }
    .badge { display: inline-block; padding: .15em .6em; border-radius: 1em; margin-right: .4em; font-weight: 600; }
    .pass { background: #d7f5dd; color: #12551f; } .fail { background: #fbd5d5; color: #8a1111; }
    .unsupported { background: #eceff3; color: #4a5260; } .timeout, .crash, .error { background: #ffe3bf; color: #7a4100; }
    .mixed { background: #fbd5d5; color: #8a1111; }
    .filters { display: flex; gap: .8em; flex-wrap: wrap; align-items: center; margin: .8em 0; padding: .6em; background: #f6f7f9; border-radius: .4em; }
    table.grid { border-collapse: collapse; margin: .3em 1.5em 1em 0; display: inline-table; vertical-align: top; }
    table.grid th, table.grid td { border: 1px solid #cfd5dd; padding: .35em .6em; text-align: center; }
    table.grid th { background: #f0f2f5; font-weight: 600; }
    table.grid td.cell { cursor: pointer; min-width: 7em; }
    table.grid td.cell:hover { outline: 2px solid #2b6cb0; }
    table.grid td.empty { background: #fff; color: #aab; }
    .gridbox { display: inline-block; vertical-align: top; }
    #details { margin-top: 1em; border-top: 2px solid #cfd5dd; padding-top: .5em; }
    .result { border: 1px solid #dde2e8; border-radius: .4em; margin: .4em 0; padding: .3em .6em; }
    .result summary { cursor: pointer; }
    .mark { font-weight: 700; margin-right: .5em; }
    pre { background: #f6f7f9; padding: .5em; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
    details.change { margin: .6em 0; } details.change > summary { cursor: pointer; }
    section.upgrade table.grid th, section.upgrade table.grid td { text-align: left; vertical-align: top; }
    .kv { display: grid; grid-template-columns: 10em 1fr; gap: .1em .8em; }
    </style>
    </head>
    <body>
    <h1>interop-matrix report</h1>
    <div class="meta" id="meta"></div>
    <div id="summary"></div>
    <div class="filters">
      <label>Scenario <select id="f-scenario"><option value="">all</option></select></label>
      <label>Version <select id="f-version"><option value="">all</option></select></label>
      <label>Outcome <select id="f-outcome"><option value="">all</option></select></label>
      <label>Cell id contains <input id="f-text" size="30" placeholder="e.g. ecdsa-p384"></label>
      <span id="f-count"></span>
    </div>
    <div id="grids"></div>
    <div id="details"></div>
    <div id="coverage"></div>
    __UPGRADES__
    <script type="application/json" id="report-data">__REPORT_JSON__</script>
    <script>
    (function () {
      "use strict";
      var report = JSON.parse(document.getElementById("report-data").textContent);
      var results = report.results || [];
      var marks = { pass: "PASS", fail: "FAIL", unsupported: "UNSUP", timeout: "TIMEOUT", crash: "CRASH", error: "ERROR" };
      var severity = { pass: 0, unsupported: 1, fail: 4, timeout: 3, crash: 3, error: 3 };
      function el(tag, attrs, text) {
        var node = document.createElement(tag);
        for (var k in (attrs || {})) node.setAttribute(k, attrs[k]);
        if (text !== undefined) node.textContent = text;
        return node;
      }
      function uniq(list) { var seen = {}; return list.filter(function (x) { if (seen[x]) return false; seen[x] = true; return true; }); }
      var libs = (report.libraries || []).map(function (l) { return l.name + " " + l.version; }).join(", ");
      document.getElementById("meta").textContent = "Matrix " + report.matrix + " · " + report.started_at + " · " +
        Number(report.duration_s).toFixed(2) + " s · " + libs + (report.complete ? "" : " · INCOMPLETE RUN") +
        (report.shard ? " · shard " + report.shard : "");
      var s = report.summary, summary = document.getElementById("summary");
      [["pass", s.passed + " passed"], ["fail", s.failed + " failed"], ["unsupported", s.unsupported + " unsupported"], ["error", s.errors + " timeouts, crashes, errors"]]
        .forEach(function (b) { summary.appendChild(el("span", { "class": "badge " + b[0] }, b[1])); });
      summary.appendChild(el("span", {}, s.total + " cells"));
      summary.appendChild(el("span", { "class": "badge", id: "deviations" }, (s.alert_deviations || 0) + " alert deviations"));
      if (report.baseline) {
        var b = report.baseline;
        summary.appendChild(el("div", { "class": "meta", id: "baseline" }, "Baseline " + b.file + ": " + b.regressions.length + " regressions, " +
          b.unexpected_passes.length + " unexpected passes, " + b.known_failures.length + " known failures, " + (b.intermittent_passes || []).length + " intermittent ones passed, " +
          b.new_cells.length + " new cells, " + b.vanished_cells.length + " vanished cells, " + (b.alert_changes || []).length + " changed alerts"));
      }
      function fill(id, values) {
        var select = document.getElementById(id);
        values.forEach(function (v) { select.appendChild(el("option", { value: v }, v)); });
        select.addEventListener("change", render);
      }
      fill("f-scenario", uniq(results.map(function (r) { return r.scenario; })));
      fill("f-version", uniq(results.map(function (r) { return r.params.version; })).sort());
      fill("f-outcome", uniq(results.map(function (r) { return r.outcome; })));
      document.getElementById("f-text").addEventListener("input", render);
      var servers = uniq(results.map(function (r) { return r.server; }));
      var clients = uniq(results.map(function (r) { return r.client; }));
      function filtered() {
        var sc = document.getElementById("f-scenario").value, ve = document.getElementById("f-version").value;
        var oc = document.getElementById("f-outcome").value, tx = document.getElementById("f-text").value;
        return results.filter(function (r) {
          return (!sc || r.scenario === sc) && (!ve || r.params.version === ve) && (!oc || r.outcome === oc) && (!tx || r.id.indexOf(tx) >= 0);
        });
      }
      function worst(cells) {
        var w = "pass";
        cells.forEach(function (c) { if (severity[c.outcome] > severity[w]) w = c.outcome; });
        return w;
      }
      function render() {
        var cells = filtered(), grids = document.getElementById("grids");
        grids.textContent = "";
        document.getElementById("f-count").textContent = cells.length + " of " + results.length + " cells";
        var groups = uniq(cells.map(function (r) { return r.scenario + " · " + r.params.version; }));
        groups.forEach(function (group) {
          var inGroup = cells.filter(function (r) { return r.scenario + " · " + r.params.version === group; });
          var box = el("div", { "class": "gridbox" });
          box.appendChild(el("h2", {}, group));
          var table = el("table", { "class": "grid", "data-group": group });
          var head = el("tr");
          head.appendChild(el("th", {}, "server ↓ client →"));
          clients.forEach(function (c) { head.appendChild(el("th", {}, c)); });
          table.appendChild(head);
          servers.forEach(function (server) {
            var row = el("tr");
            row.appendChild(el("th", {}, server));
            clients.forEach(function (client) {
              var these = inGroup.filter(function (r) { return r.server === server && r.client === client; });
              if (!these.length) { row.appendChild(el("td", { "class": "empty" }, "·")); return; }
              var attempted = these.filter(function (r) { return r.outcome !== "unsupported"; });
              var passed = attempted.filter(function (r) { return r.outcome === "pass"; }).length;
              var w = attempted.length ? worst(attempted) : "unsupported";
              var text = attempted.length ? marks[w] + " " + passed + "/" + attempted.length : "UNSUP";
              var unsupported = these.length - attempted.length;
              if (attempted.length && unsupported) text += " +" + unsupported + "u";
              var td = el("td", { "class": "cell " + w, "data-pair": server + ">" + client, "data-outcome": w, title: "click for the cells" }, text);
              td.addEventListener("click", function () { show(these, server + ">" + client + " · " + group); });
              row.appendChild(td);
            });
            table.appendChild(row);
          });
          box.appendChild(table);
          grids.appendChild(box);
        });
      }
      function block(title, value) {
        var wrap = el("div");
        wrap.appendChild(el("strong", {}, title));
        wrap.appendChild(el("pre", {}, typeof value === "string" ? value : JSON.stringify(value, null, 2)));
        return wrap;
      }
      function show(cells, title) {
        var details = document.getElementById("details");
        details.textContent = "";
        details.appendChild(el("h2", {}, title + " — " + cells.length + " cells"));
        cells.slice().sort(function (a, b) { return severity[b.outcome] - severity[a.outcome]; }).forEach(function (r) {
          var box = el("details", { "class": "result", "data-id": r.id });
          if (r.outcome !== "pass" && r.outcome !== "unsupported") box.setAttribute("open", "");
          var sum = el("summary");
          sum.appendChild(el("span", { "class": "mark badge " + r.outcome }, marks[r.outcome] + (r.flaky ? " (flaky)" : "")));
          sum.appendChild(el("span", {}, r.id + (r.reason ? " — " + r.reason : "")));
          box.appendChild(sum);
          box.appendChild(block("parameters", r.params));
          box.appendChild(block("expected", r.expect));
          if (r.server_view || r.client_view) box.appendChild(block("views (server, client)", { server: r.server_view, client: r.client_view }));
          if (r.server_error) box.appendChild(block("server error", r.server_error));
          if (r.client_error) box.appendChild(block("client error", r.client_error));
          if (r.alert_deviation) box.appendChild(block("alert deviation", r.alert_deviation.side + " " + (r.alert_deviation.observed ? "sent " + r.alert_deviation.observed : "sent no alert") + " where the RFC names " + r.alert_deviation.expected));
          if (r.notes) box.appendChild(block("notes", r.notes.join("\n")));
          if (r.baseline) box.appendChild(block("baseline", r.baseline + (r.known_failure ? ": " + r.known_failure : "")));
          if (r.earlier_attempts) box.appendChild(block("earlier attempts", r.earlier_attempts.join("\n")));
          if (r.logs) Object.keys(r.logs).forEach(function (side) { box.appendChild(block(side + " log", r.logs[side])); });
          if (r.replay) box.appendChild(block("replay", r.replay));
          details.appendChild(box);
        });
      }
      // Never tried: per pair and dimension, the values both sides support that no cell that ran used.
      (function coverage() {
        var pairs = report.coverage || [];
        if (!pairs.length) return;
        var names = ["version", "cert", "client_auth", "suite", "group"], supported = 0, never = 0;
        pairs.forEach(function (p) { p.dimensions.forEach(function (d) { supported += d.supported; never += d.never_tried.length; }); });
        var share = supported ? Math.round(100 * (supported - never) / supported) : 100;
        summary.appendChild(el("div", { "class": "meta", id: "coverage-line" }, "Coverage: " + share + "% of the values both sides of a pair support were tried; " +
          never + " never tried (see Never tried below)"));
        var box = document.getElementById("coverage");
        box.appendChild(el("h2", {}, "Never tried"));
        box.appendChild(el("p", {}, "Per pair: values both sides support that no cell which ran used, of how many (hover for the values)."));
        var table = el("table", { "class": "grid coverage" }), head = el("tr");
        head.appendChild(el("th", {}, "pair"));
        names.forEach(function (n) { head.appendChild(el("th", {}, n)); });
        table.appendChild(head);
        pairs.forEach(function (p) {
          var row = el("tr");
          row.appendChild(el("th", {}, p.server + ">" + p.client));
          names.forEach(function (n) {
            var d = p.dimensions.filter(function (x) { return x.name === n; })[0];
            var cell = el("td", d && d.never_tried.length ? { "class": "fail", title: d.never_tried.join(", ") } : { "class": "pass" },
              d ? d.never_tried.length + " / " + d.supported : "–");
            row.appendChild(cell);
          });
          table.appendChild(row);
        });
        box.appendChild(table);
        // Never crossed: per two dimensions, the value pairs both sides support that no cell crossed.
        var crossings = [];
        pairs.forEach(function (p) {
          (p.crossings || []).forEach(function (c) {
            var key = c.dimensions.join(" × "), e = crossings.filter(function (x) { return x.key === key; })[0];
            if (!e) { e = { key: key, possible: 0, crossed: 0, short: 0, examples: {} }; crossings.push(e); }
            e.possible += c.possible; e.crossed += c.crossed;
            if (c.crossed < c.possible) e.short += 1;
            c.never_crossed.forEach(function (v) { var k = v.join(" with "); e.examples[k] = (e.examples[k] || 0) + 1; });
          });
        });
        if (!crossings.length) return;
        var possible = 0, crossed = 0;
        crossings.forEach(function (e) { possible += e.possible; crossed += e.crossed; });
        summary.appendChild(el("div", { "class": "meta", id: "crossing-line" }, "Crossings: " + (Math.floor(1000 * crossed / possible) / 10) +
          "% of the value pairs both sides of a pair support were crossed in a cell; " + (possible - crossed) + " never crossed (see Never crossed below)"));
        box.appendChild(el("h2", {}, "Never crossed"));
        box.appendChild(el("p", {}, "Per two dimensions, summed over the pairs: value pairs some combination both sides can run has, and how many no cell which ran crossed (hover for examples)."));
        var cross = el("table", { "class": "grid coverage", id: "crossings" }), row0 = el("tr");
        ["dimensions", "crossed / possible", "pairs short", "never crossed, most missed"].forEach(function (n) { row0.appendChild(el("th", {}, n)); });
        cross.appendChild(row0);
        crossings.forEach(function (e) {
          var row = el("tr"), examples = Object.keys(e.examples).sort(function (a, b) { return e.examples[b] - e.examples[a]; });
          row.appendChild(el("th", {}, e.key));
          row.appendChild(el("td", { "class": e.crossed < e.possible ? "fail" : "pass" }, e.crossed + " / " + e.possible));
          row.appendChild(el("td", {}, String(e.short)));
          row.appendChild(el("td", { title: examples.join(", ") }, examples.slice(0, 3).join(", ") || "none"));
          cross.appendChild(row);
        });
        box.appendChild(cross);
      })();
      // Covering arrays: per t-way block, the share of its t-tuples that cells which ran covered.
      (function coveringArrays() {
        var box = document.getElementById("coverage");
        var arrays = report.covering_arrays || [], blocks = [];
        arrays.forEach(function (a) {
          var key = a.block + " (" + (a.strength === 2 ? "pairwise" : a.strength + "-way") + ")";
          var b = blocks.filter(function (x) { return x.key === key; })[0];
          if (!b) { b = { key: key, pairs: 0, tuples: 0, covered: 0, short: [] }; blocks.push(b); }
          b.pairs += 1; b.tuples += a.tuples; b.covered += a.covered;
          if (a.covered < a.tuples) b.short.push(a.server + ">" + a.client + " " + (Math.floor(1000 * a.covered / a.tuples) / 10) + "%");
        });
        if (!blocks.length) return;
        function percent(b) { return (b.tuples ? Math.floor(1000 * b.covered / b.tuples) / 10 : 100) + "%"; }
        summary.appendChild(el("div", { "class": "meta", id: "covering-line" }, "Covering arrays: " +
          blocks.map(function (b) { return b.key + " " + percent(b) + " of " + b.tuples + " t-tuples"; }).join("; ")));
        box.appendChild(el("h2", {}, "Covering arrays"));
        box.appendChild(el("p", {}, "Per t-way block: the t-tuples of the combinations both sides can run that a cell which ran covered."));
        var grid = el("table", { "class": "grid coverage", id: "covering-arrays" }), top = el("tr");
        ["block", "pairs", "t-tuples covered", "share", "pairs short of 100%"].forEach(function (n) { top.appendChild(el("th", {}, n)); });
        grid.appendChild(top);
        blocks.forEach(function (b) {
          var row = el("tr");
          row.appendChild(el("th", {}, b.key));
          row.appendChild(el("td", {}, String(b.pairs)));
          row.appendChild(el("td", {}, b.covered + " / " + b.tuples));
          row.appendChild(el("td", { "class": b.covered < b.tuples ? "fail" : "pass" }, percent(b)));
          row.appendChild(el("td", b.short.length ? { "class": "fail", title: b.short.join(", ") } : {}, b.short.length ? b.short.length + " (hover)" : "none"));
          grid.appendChild(row);
        });
        box.appendChild(grid);
      })();
      render();
      var wanted = /open=([^&]+)/.exec(decodeURIComponent(location.hash));
      if (wanted) {
        var pair = wanted[1], these = results.filter(function (r) { return r.server + ">" + r.client === pair; });
        if (these.length) show(these, pair);
      }
    })();
    </script>
    </body>
    </html>
    """#
}
