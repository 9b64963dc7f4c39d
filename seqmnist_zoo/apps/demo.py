"""``seqmnist-zoo demo``: a local page where you draw a digit and watch every family read it.

Built on Gradio (the `demo` extra), so the same `build_demo()` runs unchanged as a Hugging Face
Space. It works with no network at all: analytics off, system fonts instead of web fonts, bound
to 127.0.0.1 unless told otherwise. Every drawing goes through the zoo's one reader
(`seqmnist_zoo.prepare_each`); the five models are loaded once and shared by all requests.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from ..errors import InvalidArgumentError, NoDigitError, SeqMnistZooError
from ..inputs.images import SUFFIXES

GRADIO_MAJOR = 6
MAX_UPLOAD = "5mb"
DRAW_PROMPT = "Draw a digit in the box (mouse or finger), one digit, as large as you like."
# Gradio's Sketchpad starts, and restarts after "Clear canvas", with no tool chosen ("select the
# draw tool to start"); the page picks the brush whenever that happens, so a stroke draws at once.
PICK_BRUSH = """() => {
  setInterval(() => {
    const pad = document.querySelector("#pad");
    if (pad && pad.innerText.includes("select the draw tool")) {
      const brush = pad.querySelector("button[aria-label='Brush']");
      if (brush) brush.click();
    }
  }, 250);
}"""


class ZooReader:
    """The shipped models, loaded once, and what they make of one drawing.

    Examples:
        >>> reader = ZooReader(["gru"])
        >>> reader.answer(None)["message"]
        'Draw a digit in the box (mouse or finger), one digit, as large as you like.'
    """

    def __init__(self, names=None):
        from ..inference.reading import belief_reader
        from ..models.factory import get_model
        from ..models.registry import get_model_spec, list_models

        self.names = list(names or list_models(pretrained=True))
        self.models = {name: get_model(name, weights=get_model_spec(name).reader_weights)
                       for name in self.names}
        self.readers = {name: belief_reader(model) for name, model in self.models.items()}
        self.lock = threading.Lock()  # one inference at a time: the models are shared

    def answer(self, picture, family: str | None = None) -> dict[str, Any]:
        """The 28x28 digit seen, every family's top 3, and `family`'s belief after each step.

        `picture` is a Sketchpad value (a dict with a ``composite``), an array, a file's path or
        None. Returns a ``message`` instead of answers when there is nothing to read, or why a
        picture cannot be read.
        """
        from ..inference.predict import rank
        from ..inference.reading import decided_at
        from ..inputs.preprocess import prepare_each

        image = picture.get("composite") if isinstance(picture, dict) else picture
        uploaded = isinstance(image, (str, os.PathLike))
        if not uploaded and (image is None or not np.asarray(image).size):
            return {"message": DRAW_PROMPT}
        item = prepare_each([image] if uploaded else np.asarray(image))[0]
        if not item.ok:
            if not uploaded and isinstance(item.error, NoDigitError):  # an empty drawing
                return {"message": DRAW_PROMPT}
            why = str(item.error)  # an upload's server copy has a temporary path: name the file only
            why = why.replace(str(image), os.path.basename(image)) if uploaded else why
            return {"message": f"Cannot read this picture: {why}"}
        family = family if family in self.models else self.names[0]
        digit = item.image[None]
        with self.lock:
            top3 = {name: list(rank(model, [item], top_k=3)[0].top) for name, model in self.models.items()}
            beliefs = self.readers[family](digit)[0]
        return {"message": f"{family} answers {top3[family][0][0]}, unchanged from step "
                           f"{decided_at(beliefs)} of {len(beliefs)} on.",
                "image": item.image, "top3": top3, "beliefs": beliefs, "family": family}


def belief_figure(beliefs, family: str):
    """The selected family's belief in each digit after every step (the top 3 labelled).

    Examples:
        >>> belief_figure(np.tile(np.eye(10)[[4]], (28, 1)), "lstm").axes[0].get_xlabel()
        'rows read (timestep)'
    """
    from ..reports import plt

    beliefs = np.asarray(beliefs)
    steps = np.arange(1, len(beliefs) + 1)
    leaders = set(np.argsort(beliefs[-1])[::-1][:3])
    figure, axis = plt.subplots(figsize=(6.0, 3.0), dpi=90)
    for digit in range(beliefs.shape[1]):
        if digit in leaders:
            axis.step(steps, beliefs[:, digit] * 100, where="post", linewidth=2, label=str(digit))
        else:
            axis.step(steps, beliefs[:, digit] * 100, where="post", color="lightgray", linewidth=1)
    axis.set(ylim=(0, 100), xlim=(1, len(steps)), xlabel="rows read (timestep)",
             ylabel="belief (%)", title=f"What {family} believes after each step")
    axis.legend(title="digit", fontsize=8, loc="upper left")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def build_demo(reader: ZooReader | None = None):
    """The Gradio Blocks app (not launched); ``build_demo().launch()`` serves it.

    Examples:
        >>> build_demo().launch(server_name="127.0.0.1")  # doctest: +SKIP
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    gr = require_gradio()
    reader = reader or ZooReader()

    def respond(picture, family):
        try:
            found = reader.answer(picture, family)
        except SeqMnistZooError as err:
            found = {"message": f"Cannot read this picture: {err}"}
        except Exception as err:  # a malformed upload must not take the page down
            found = {"message": f"Cannot read this picture ({type(err).__name__})."}
        if "top3" not in found:
            return found["message"], None, None, None
        rows = [[name] + [f"{d} ({p:.1%})" for d, p in found["top3"][name]] for name in reader.names]
        seen = np.kron(found["image"], np.ones((8, 8), "uint8"))  # 224x224, sharp pixels
        return found["message"], seen, rows, belief_figure(found["beliefs"], found["family"])

    with gr.Blocks(title="seqmnist-zoo: draw a digit", analytics_enabled=False) as demo:
        gr.Markdown("# Draw a digit\nEvery family reads your drawing row by row, the way MNIST "
                    "was made: cropped, fitted into 20x20, centred in 28x28.")
        with gr.Row():
            with gr.Column():
                pad = gr.Sketchpad(label="Your digit", type="numpy", image_mode="RGBA",
                                   canvas_size=(280, 280), sources=(), elem_id="pad",
                                   brush=gr.Brush(default_size=18, colors=["#000000"],
                                                  color_mode="fixed"))
                family = gr.Dropdown(reader.names, value=reader.names[0], label="Belief of",
                                     elem_id="family")
                clear = gr.Button("Clear", elem_id="clear")
                # A file, not an Image: the zoo's reader opens it, so a broken one gets the zoo's
                # message on the page instead of Gradio's preprocessing error.
                upload = gr.File(label=f"Or upload a picture (up to {MAX_UPLOAD})", type="filepath",
                                 file_types=list(SUFFIXES), elem_id="upload", height=120)
            with gr.Column():
                message = gr.Markdown(DRAW_PROMPT, elem_id="message")
                seen = gr.Image(label="What the models see (28x28)", interactive=False, buttons=[],
                                elem_id="seen", height=224, width=224)
                table = gr.Dataframe(headers=["model", "1st", "2nd", "3rd"], label="Top 3",
                                     interactive=False, elem_id="top3")
                plot = gr.Plot(label="Belief after each step", elem_id="beliefs")
        outputs = [message, seen, table, plot]
        pad.change(respond, [pad, family], outputs, api_name="predict")
        family.change(respond, [pad, family], outputs, api_name=False)
        upload.upload(respond, [upload, family], outputs, api_name="predict_upload")
        clear.click(lambda: (None, None), None, [pad, upload], api_name=False)
        demo.load(None, None, None, js=PICK_BRUSH, api_name=False)
    return demo


def launch(host: str = "127.0.0.1", port: int = 7860, families=None, block: bool = True):
    """Serve the demo at http://HOST:PORT (local only by default); returns the Gradio app.

    Examples:
        >>> launch(port=7861)  # doctest: +SKIP
    """
    gr = require_gradio()
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])  # no web fonts to fetch
    demo = build_demo(ZooReader(families))
    demo.queue(default_concurrency_limit=1)
    demo.launch(server_name=host, server_port=port, share=False, show_error=True, quiet=True,
                max_file_size=MAX_UPLOAD, prevent_thread_lock=not block, theme=theme,
                ssr_mode=False, inbrowser=False)
    return demo


def require_gradio():
    """The gradio module, or a one-line error saying how to install the version the demo needs.

    Examples:
        >>> require_gradio().__name__
        'gradio'
    """
    try:
        import gradio
    except ImportError:
        raise SeqMnistZooError("the demo needs Gradio: pip install 'seqmnist-zoo[demo]'") from None
    major = int(gradio.__version__.split(".")[0])
    if major != GRADIO_MAJOR:
        raise InvalidArgumentError(
            f"the demo is built for Gradio {GRADIO_MAJOR}.x (its Sketchpad changes between majors); "
            f"found {gradio.__version__}: pip install 'seqmnist-zoo[demo]'")
    return gradio
