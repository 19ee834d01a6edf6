"""Kommentarer: the controllers' comments on variances, per quarter and area; a controller writes new ones."""

from __future__ import annotations

import ipywidgets as ipw

from samordning.agreement import quarter_label
from samordning.errors import SamordningError
from samordning.localtime import local_time
from samordning.ui.dashboard.base import Form, Tab, area_options, button, heading, quarter_options, set_options
from samordning.ui.dashboard.html import e, smd
from samordning.ui.dashboard.state import State


def comments_html(s: State) -> str:
    names = s.area_names
    items = "".join(
        f'<div class="comment"><b>{e(quarter_label(c.quarter) if c.quarter else "Hela avtalstiden")}'
        f'{" · " + e(names.get(c.area, c.area)) if c.area else ""}</b> <span class="sub">{e(c.author)}, '
        f'{local_time(c.at)}</span><br>{e(c.text)}</div>' for c in s.comments.itertuples())
    return smd(items or "<span class=sub>Inga kommentarer ännu.</span>")


class CommentForm(Form):
    def build(self) -> list[ipw.Widget]:
        self.quarter = ipw.Dropdown(description="Kvartal", style={"description_width": "initial"})
        self.area = ipw.Dropdown(description="Område", style={"description_width": "initial"})
        self.text = ipw.Textarea(placeholder="Förklara avvikelsen …", layout=ipw.Layout(width="640px", height="90px"))
        self.text.add_class("smd-editor")
        save = button("Spara kommentar", button_style="primary")
        save.on_click(self.status.guard(lambda _b: self.save()))
        return [heading("Ny kommentar", "En ny kommentar till samma kvartal och område ersätter den gällande; "
                        "tidigare versioner sparas."),
                ipw.HBox([self.quarter, self.area]), self.text, ipw.HBox([save]), self.status.widget]

    def render(self, state: State) -> None:
        set_options(self.quarter, quarter_options(state.agreement, "hela avtalstiden"))
        set_options(self.area, area_options(state.agreement, "alla områden"))

    def save(self) -> None:
        text = self.text.value.strip()
        if not text:
            raise SamordningError("Skriv en kommentar först.")
        self.ctx.actions.run(
            lambda: self.ctx.store.add_comment(agreement_id=self.ctx.current().agreement.id, text=text,
                                               author=self.ctx.user, quarter=self.quarter.value or None,
                                               area=self.area.value or None),
            self.status.show, "Kommentaren är sparad.")
        self.text.value = ""


class CommentsTab(Tab):
    title = "Kommentarer"
    form_kinds = (CommentForm,)

    def build(self) -> list[ipw.Widget]:
        self.list = ipw.HTML()
        return [self.list, *(f.widget for f in self.forms)]

    def show(self, state: State) -> None:
        self.list.value = comments_html(state)
