// Markdown as GitHub would draw it, for looking at derive's .md output offline:
// markdown-it with KaTeX math ($…$, $$…$$) and Mermaid code blocks left for mermaid.js.
//   node tools/md2html.js NODE_MODULES FILE.md > FILE.html
// tools/render_md.py installs the packages into a temporary folder and screenshots the page.
const fs = require("fs");
const path = require("path");
const modules = process.argv[2];
const md = require(path.join(modules, "markdown-it"))({ html: false });
const katex = require(path.join(modules, "katex"));
md.use(require(path.join(modules, "markdown-it-texmath")), { engine: katex, delimiters: "dollars" });
const fence = md.renderer.rules.fence;
md.renderer.rules.fence = (tokens, i, options, env, self) =>
  tokens[i].info.trim() === "mermaid"
    ? `<pre class="mermaid">${md.utils.escapeHtml(tokens[i].content)}</pre>`
    : fence(tokens, i, options, env, self);
const body = md.render(fs.readFileSync(process.argv[3], "utf8"));
const url = (p) => "file://" + path.join(modules, p);
process.stdout.write(`<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="${url("katex/dist/katex.min.css")}">
<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;line-height:1.5}</style>
</head><body>${body}
<script src="${url("mermaid/dist/mermaid.min.js")}"></script>
<script>mermaid.initialize({startOnLoad:false});
mermaid.run().then(() => { document.body.dataset.drawn = "yes"; },
                   (e) => { document.body.dataset.drawn = "error: " + e; });</script>
</body></html>`);
