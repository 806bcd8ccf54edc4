"""Microsoft Teams: the only package that speaks the Bot Framework (botbuilder 4.17.1)."""
