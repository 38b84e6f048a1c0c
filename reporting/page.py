"""A report page: headings, text, tables and figures, written as one self-contained HTML
file (images embedded as base64 PNG, styles inline, no network) and a Markdown summary
beside the PNG files.

A short inline script counts the images that decoded and writes the result into the
page (`<body data-images-loaded="N/M">`), so a headless browser can check that every
figure loaded (tests/report/test_report.py).

Example:
>>> import os, tempfile
>>> from reporting.page import Page
>>> page = Page("Demo")
>>> page.heading("Numbers")
>>> page.table(["task", "auc"], [["a", "0.91"]])
>>> folder = tempfile.mkdtemp()
>>> html = page.write(folder)
>>> os.path.basename(html), sorted(os.listdir(folder))
('index.html', ['index.html', 'summary.md'])
"""

import base64
import html
import os

from reporting.plots import png

STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1250px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
td.better { background: #e3f4e1; } td.worse { background: #fbe3e1; }
figure { margin: 0.8em 0; } figcaption { font-size: 0.85em; color: #555; }
img { max-width: 100%; border: 1px solid #eee; }
p.note { font-size: 0.9em; color: #444; background: #fafafa; border-left: 3px solid #bbb;
         padding: 0.4em 0.8em; }
code { background: #f4f4f4; padding: 0 3px; }
"""

CHECK = """
window.addEventListener("load", function () {
  var images = document.images, ok = 0;
  for (var i = 0; i < images.length; i++) {
    if (images[i].complete && images[i].naturalWidth > 0) ok++;
  }
  document.body.setAttribute("data-images-loaded", ok + "/" + images.length);
});
"""


class Page:
    """Collects a report's parts, then writes `index.html`, `summary.md` and the PNGs."""

    def __init__(self, title):
        self.title = title
        self.parts = []     # ("heading"|"text"|"note"|"table"|"figure", payload)

    def heading(self, text):
        self.parts.append(("heading", text))

    def text(self, text):
        self.parts.append(("text", text))

    def note(self, text):
        self.parts.append(("note", text))

    def table(self, header, rows, classes=None):
        """`rows`: lists of cell strings; `classes`: the same shape, a CSS class per cell."""
        self.parts.append(("table", (header, rows, classes)))

    def figure(self, fig, name, caption):
        """A matplotlib figure (None is skipped), saved as `<name>.png`."""
        if fig is not None:
            self.parts.append(("figure", (fig, name, caption)))

    def write(self, folder):
        """Writes the files into `folder`; returns the path of `index.html`."""
        os.makedirs(folder, exist_ok=True)
        body, markdown = [f"<h1>{html.escape(self.title)}</h1>"], [f"# {self.title}", ""]
        for kind, payload in self.parts:
            if kind == "heading":
                body.append(f"<h2>{html.escape(payload)}</h2>")
                markdown += [f"## {payload}", ""]
            elif kind in ("text", "note"):
                cls = ' class="note"' if kind == "note" else ""
                body.append(f"<p{cls}>{html.escape(payload)}</p>")
                markdown += [payload, ""]
            elif kind == "table":
                header, rows, classes = payload
                cells = "".join(f"<th>{html.escape(h)}</th>" for h in header)
                lines = [f"<table><tr>{cells}</tr>"]
                for r, row in enumerate(rows):
                    tds = []
                    for c, cell in enumerate(row):
                        cls = classes[r][c] if classes else ""
                        tds.append(f"<td class=\"{cls}\">{html.escape(str(cell))}</td>" if cls
                                   else f"<td>{html.escape(str(cell))}</td>")
                    lines.append(f"<tr>{''.join(tds)}</tr>")
                lines.append("</table>")
                body.append("\n".join(lines))
                markdown += ["| " + " | ".join(header) + " |",
                             "|" + "|".join("---" for _ in header) + "|"]
                markdown += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
                markdown.append("")
            else:
                fig, name, caption = payload
                path = png(fig, os.path.join(folder, f"{name}.png"))
                with open(path, "rb") as f:
                    data = base64.b64encode(f.read()).decode("ascii")
                body.append(f'<figure><img alt="{html.escape(name)}" '
                            f'src="data:image/png;base64,{data}"><figcaption>'
                            f"{html.escape(caption)}</figcaption></figure>")
                markdown += [f"![{caption}]({name}.png)", ""]
        page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{STYLE}</style>"
                f"<script>{CHECK}</script></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
        index = os.path.join(folder, "index.html")
        with open(index, "w") as f:
            f.write(page)
        with open(os.path.join(folder, "summary.md"), "w") as f:
            f.write("\n".join(markdown))
        return index
