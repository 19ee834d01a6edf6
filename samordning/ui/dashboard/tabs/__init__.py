"""The dashboard's tabs, one module each; :data:`samordning.ui.dashboard.app.TABS` lists them in order."""
