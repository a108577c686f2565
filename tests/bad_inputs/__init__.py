"""Bad inputs fed through ``agentreg validate`` and ``agentreg submit``."""
