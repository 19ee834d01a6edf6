"""Widgets ipywidgets lacks: a chunked file upload with a size check in the browser, and a download link.

ipywidgets' FileUpload sends the whole file as one websocket message: past Tornado's message limit the
file vanishes without a word, and nothing tells the user how far it got. This upload checks the size in
the browser before anything is sent, sends the file in chunks the kernel acknowledges (a real progress bar),
and hands the assembled bytes to Python callbacks.
"""

from __future__ import annotations

import base64
import functools
import html
from collections.abc import Callable

import anywidget
import traitlets

from samordning.ingest import MAX_FILE_BYTES, megabytes

MB = 1024 * 1024


_UPLOAD_ESM = r"""
function mb(n) { return (n / 1048576).toLocaleString("sv-SE", {maximumFractionDigits: 1}) + " MB"; }

function render({ model, el }) {
  el.classList.add("smd-upload");
  const label = document.createElement("label");
  label.className = "smd-upload-button";
  label.textContent = model.get("description");
  const input = document.createElement("input");
  input.type = "file";
  input.accept = model.get("accept");
  input.className = "smd-upload-input";
  label.appendChild(input);
  const bar = document.createElement("progress");
  bar.max = 1; bar.value = 0; bar.style.display = "none";
  const status = document.createElement("span");
  status.className = "smd-upload-status";
  el.append(label, bar, status);

  input.addEventListener("change", async () => {
    const file = input.files[0];
    if (!file) return;
    status.textContent = file.name;
    const max = model.get("max_bytes");
    if (file.size > max) {
      status.textContent = `Filen ${file.name} är ${mb(file.size)}; största tillåtna storlek är ${mb(max)}. ` +
        "Inget har skickats.";
      model.send({ type: "too_large", name: file.name, size: file.size });
      input.value = "";
      return;
    }
    input.disabled = true;
    bar.style.display = ""; bar.value = 0;
    status.textContent = `Skickar ${file.name} …`;
    model.send({ type: "start", name: file.name, size: file.size });
    const chunk = model.get("chunk_bytes");
    for (let offset = 0; offset < file.size; offset += chunk) {
      const buffer = await file.slice(offset, offset + chunk).arrayBuffer();
      model.send({ type: "chunk", offset }, undefined, [buffer]);
    }
    model.send({ type: "end" });
    input.value = "";
  });
  const progress = () => {
    const size = model.get("size");
    bar.value = size ? model.get("received") / size : 0;
    if (size && model.get("received") >= size) {
      input.disabled = false;
      status.textContent = model.get("status");
    }
  };
  model.on("change:received", progress);
  model.on("change:status", () => { status.textContent = model.get("status"); });
}
export default { render };
"""

_UPLOAD_CSS = """
.smd-upload { display: flex; align-items: center; gap: 12px; font-size: 15px; }
.smd-upload-button { display: inline-block; padding: 8px 16px; border-radius: 6px; background: #1f3b57;
  color: white; cursor: pointer; }
.smd-upload-input { display: none; }  /* the label opens the chooser; the browser's own text is not Swedish */
.smd-upload progress { width: 220px; height: 14px; }
.smd-upload-status { color: #4a5561; }
"""


class ChunkedUpload(anywidget.AnyWidget):
    """Upload one file at a time; ``on_file(callback)`` receives ``(name, content)``."""

    _esm = _UPLOAD_ESM
    _css = _UPLOAD_CSS
    description = traitlets.Unicode("Välj fil …").tag(sync=True)
    accept = traitlets.Unicode(".xlsx,.xlsm,.xls,.ods,.csv,.txt,.se,.si,.sie").tag(sync=True)
    max_bytes = traitlets.Int(MAX_FILE_BYTES).tag(sync=True)  # the importer's limit, refused before sending
    chunk_bytes = traitlets.Int(1 * MB).tag(sync=True)
    size = traitlets.Int(0).tag(sync=True)
    received = traitlets.Int(0).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._name = ""
        self._parts: list[bytes] = []
        self._file_callbacks: list[Callable[[str, bytes], None]] = []
        self._refused_callbacks: list[Callable[[str, int], None]] = []
        self.on_msg(self._handle)

    def on_file(self, callback: Callable[[str, bytes], None]) -> None:
        self._file_callbacks.append(callback)

    def on_too_large(self, callback: Callable[[str, int], None]) -> None:
        self._refused_callbacks.append(callback)

    def _handle(self, _widget: object, content: dict[str, object], buffers: list[bytes]) -> None:
        kind = content.get("type")
        if kind == "start":
            self._name = str(content.get("name", ""))
            self._parts = []
            self.received = 0
            self.size = int(content.get("size", 0))  # type: ignore[call-overload]
        elif kind == "chunk":
            self._parts += [bytes(b) for b in buffers]
            self.received = min(self.size, self.received + sum(len(b) for b in buffers))
        elif kind == "end":
            self.deliver(self._name, b"".join(self._parts))
        elif kind == "too_large":
            for callback in self._refused_callbacks:
                callback(str(content.get("name", "")), int(content.get("size", 0)))  # type: ignore[call-overload]

    def deliver(self, name: str, content: bytes) -> None:
        """Hand a complete file to the callbacks (also what tests call instead of a browser)."""
        self._parts = []
        self.status = f"{name} är mottagen ({megabytes(len(content))})"
        self.size = len(content)
        self.received = len(content)
        for callback in self._file_callbacks:
            callback(name, content)


_FIT_ESM = r"""
function render({ el }) {
  el.style.display = "none";
  if (window.__smdFitCharts) return;
  window.__smdFitCharts = true;
  // A FigureWidget draws before its element is in the page, at plotly's default width of 700 px. Its charts
  // are made responsive (see chart()), so one resize event after each first draw fits them to their cell.
  // A chart's text alternative is the table beside it (WCAG 1.1.1): each chart cell says so to a screen reader.
  document.addEventListener("plotlywidget-after-render", () => {
    setTimeout(() => window.dispatchEvent(new Event("resize")), 30);
    for (const cell of document.querySelectorAll(".smd-chart-cell:not([aria-label])")) {
      cell.setAttribute("role", "group");
      cell.setAttribute("aria-label", "Diagram. Samma siffror står i tabellen under diagrammet.");
    }
  });
}
export default { render };
"""


class FitCharts(anywidget.AnyWidget):
    """Invisible; put once in the page so that every chart() fits its container's width."""

    _esm = _FIT_ESM


# plotly's FigureWidget (an anywidget) carries plotly.js, 5 MB, in its own state: each chart on a page sent it
# again and the browser evaluated it again (plotly/plotly.py#5143; about 1.5 s a chart here). Our charts carry
# a stub instead, which waits for the one copy a PlotlyLoader sends per page (kernel).
_READY = ("(window.__smdPlotlyReady ??= (() => { let resolve; const p = new Promise((r) => { resolve = r; }); "
          "p.resolve = resolve; return p; })())")
_LOADER_ESM = """
export default {
  initialize({ model }) {
    const ready = READY;
    if (!ready.started) {
      ready.started = true;
      const url = URL.createObjectURL(new Blob([model.get("bundle")], { type: "text/javascript" }));
      ready.resolve(import(url));
    }
  },
  render({ el }) { el.style.display = "none"; },
};
""".replace("READY", _READY)
_CHART_ESM = "const plotly = await READY;\nexport default plotly.default;\n".replace("READY", _READY)


class PlotlyLoader(anywidget.AnyWidget):
    """Sends plotly's widget code (plotly.js included) to the page once, for every chart()."""

    _esm = _LOADER_ESM
    bundle = traitlets.Unicode("").tag(sync=True)


@functools.cache
def _chart_class() -> type:
    from plotly.graph_objects import FigureWidget

    loader = PlotlyLoader(bundle=str(FigureWidget._esm))  # plotly's own widget code, as plotly would send it

    class Chart(FigureWidget):  # type: ignore[misc]
        _esm = _CHART_ESM
        _loader = loader  # created with the first chart, so that a page without charts never loads plotly.js

    return Chart


def chart(figure: object) -> object:
    """A live plotly chart (FigureWidget) that follows its container's width, with our toolbar (one button, in
    Swedish, no cloud: :data:`samordning.ui.charts.CONFIG`)."""
    from samordning.ui.charts import CONFIG

    widget = _chart_class()(figure)
    widget._config = {**CONFIG, "responsive": True}
    return widget


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_link(content: bytes, filename: str, label: str, mime: str = XLSX_MIME) -> str:
    """An HTML link that saves ``content`` as ``filename`` when clicked (data URI; no server round trip)."""
    data = base64.b64encode(content).decode("ascii")
    return (f'<a class="smd-download" download="{html.escape(filename)}" href="data:{mime};base64,{data}">'
            f"{html.escape(label)}</a>")
