"""Our own login and logout pages, in Swedish, in place of Jupyter's English ones ("Setup a Password",
``jupyter server list``): one page for the users file (name and password), the shared password or token, and
the proxy's single sign-on (which has no form). Served by :class:`samordning.login.ThrottledIdentityProvider`;
the checks (and the brake on guessing) stay the identity provider's.
"""

from __future__ import annotations

import html
import typing as t

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.auth.login import LoginFormHandler
from jupyter_server.auth.logout import LogoutHandler
from tornado.escape import url_escape

PRODUCT = "samordning"

PAGE = """<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  body {{ margin: 0; font-family: system-ui, "Segoe UI", Roboto, Arial, sans-serif; font-size: 18px;
         line-height: 1.5; color: #1a1a1a; background: #f4f5f7; }}
  main {{ max-width: 28rem; margin: 10vh auto; padding: 2rem; background: #fff; border: 1px solid #8a8f98;
         border-radius: 6px; }}
  h1 {{ font-size: 1.6rem; margin: 0 0 .25rem; }}
  p {{ margin: .5rem 0 1rem; }}
  .product {{ color: #444b55; margin: 0 0 1.5rem; }}
  label {{ display: block; font-weight: 600; margin: 1rem 0 .25rem; }}
  input {{ box-sizing: border-box; width: 100%; font: inherit; padding: .5rem .6rem; color: #1a1a1a;
          background: #fff; border: 2px solid #5c636e; border-radius: 4px; }}
  button {{ margin-top: 1.5rem; font: inherit; font-weight: 600; padding: .55rem 1.4rem; color: #fff;
           background: #0b4f8a; border: 2px solid #0b4f8a; border-radius: 4px; cursor: pointer; }}
  button:hover {{ background: #083a66; }}
  input:focus-visible, button:focus-visible, a:focus-visible {{ outline: 3px solid #b35900; outline-offset: 2px; }}
  .fel {{ color: #8c0014; background: #fdecee; border-left: 4px solid #8c0014; padding: .5rem .75rem; }}
  a {{ color: #0b4f8a; }}
</style>
</head>
<body>
<main>
<h1>{heading}</h1>
<p class="product">{PRODUCT} – uppföljning av samverkansavtal</p>
{body}
</main>
</body>
</html>
"""

INTRO = {
    "users": "Logga in med ditt namn och ditt lösenord. Det du ändrar sparas med ditt namn.",
    "secret": "Logga in med den token som visades när servern startade (eller som du fått av den som förvaltar "
              "samordning).",
    "password": "Logga in med det gemensamma lösenordet.",
}
WRONG = {
    "users": "Fel namn eller lösenord. Kontrollera och försök igen.",
    "secret": "Fel token. Kontrollera och försök igen.",
    "password": "Fel lösenord. Kontrollera och försök igen.",
}
HEADER_ONLY = ("Den här vyn öppnas genom organisationens inloggning. Sidan nåddes utan något inloggat namn: "
               "öppna den via organisationens vanliga adress, eller kontakta den som förvaltar samordning.")


def page(heading: str, body: str) -> str:
    return PAGE.format(title=html.escape(f"{heading} – {PRODUCT}"), heading=html.escape(heading), body=body,
                       PRODUCT=PRODUCT)


def login_form(kind: str, action: str, xsrf: str, *, failed: bool = False, name: str = "") -> str:
    """The login page's ``<main>`` content for a kind of login (see ``ThrottledIdentityProvider.kind``)."""
    if kind not in INTRO:
        return f"<p>{html.escape(HEADER_ONLY)}</p>"
    error = (f'<p id="fel" class="fel" role="alert">{html.escape(WRONG[kind])}</p>' if failed else "")
    invalid = ' aria-invalid="true" aria-describedby="fel"' if failed else ""
    fields = []
    if kind == "users":
        fields.append(f'<label for="namn">Namn</label><input id="namn" name="username" type="text" '
                      f'autocomplete="username" required value="{html.escape(name)}"'
                      f'{"" if failed and name else " autofocus"}{invalid}>')
        password_label, focus = "Lösenord", " autofocus" if failed and name else ""
    else:
        password_label, focus = "Token" if kind == "secret" else "Lösenord", " autofocus"
    fields.append(f'<label for="losenord">{password_label}</label><input id="losenord" name="password" '
                  f'type="password" autocomplete="current-password" required{focus}{invalid}>')
    return (f"{error}<p>{html.escape(INTRO[kind])}</p>"
            f'<form method="post" action="{html.escape(action)}">{xsrf}{"".join(fields)}'
            f'<button type="submit">Logga in</button></form>')


class LoginPage(LoginFormHandler):
    """Jupyter's login handler (its checks, redirects and cookie) with our page."""

    def _render(self, message: t.Any = None) -> None:  # type: ignore[override]
        kind = getattr(self.identity_provider, "kind", "secret")
        next_url = url_escape(self.get_argument("next", default=self.base_url))
        action = f"{self.base_url}login?next={next_url}"
        body = login_form(kind, action, self.xsrf_form_html(), failed=bool(message),
                          name=self.get_argument("username", default="") if message else "")
        if kind not in INTRO:
            self.set_status(401)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.write(page("Logga in", body))


class LogoutPage(LogoutHandler):
    """Jupyter's logout, said in Swedish."""

    @allow_unauthenticated
    def get(self) -> None:  # type: ignore[override]
        self.identity_provider.clear_login_cookie(self)
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.write(page("Utloggad", f'<p>Du är utloggad.</p><p><a href="{html.escape(self.base_url)}">'
                                    f"Logga in igen</a></p>"))
