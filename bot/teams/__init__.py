"""The Microsoft Teams adapter: Adaptive Card rendering, chart images, Bot Framework transport."""
