"""The UI layer: charts, widgets and the Voilà dashboard on top of the domain core."""

ROLE_ENV = "SAMORDNING_ROLE"  # set by `samordning serve`: "council" (read-only) or "controller"
# The logged-in name, from the server's page handler to the page's kernel: Voilà passes the request header
# USER_HEADER (set by the server from the login, never by the client) to the kernel as USER_ENV.
USER_HEADER = "X-Samordning-User"
USER_ENV = "HTTP_X_SAMORDNING_USER"
