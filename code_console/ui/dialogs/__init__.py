"""Modal dialogs: each collects what one action needs, runs it, and keeps the user's place on error."""
