"""The UI layer: charts, widgets and the Voilà dashboard on top of the domain core."""

ROLE_ENV = "SAMORDNING_ROLE"  # set by `samordning serve`: "council" (read-only) or "controller"
