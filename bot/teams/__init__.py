"""Microsoft Teams: the only package that speaks the Bot Framework (botbuilder 4.17.1).

Adaptive Card rendering, chart images, authentication and the Bot Connector emulator.
"""
