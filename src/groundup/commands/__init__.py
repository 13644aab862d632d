"""CLI subcommands, one module per area (see groundup.cli.COMMAND_MODULES)."""
