"""Subcommands of ``tfd``: each module adds its parser (``add``) and runs it (``run``)."""
