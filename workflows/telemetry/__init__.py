"""Live usage from Claude Code's own OpenTelemetry: what is kept, how it is counted, which figure
wins. Free of HTTP, protobuf and SQL: the receiver (`bot/telemetry`) hands over decoded data
points and events, the store keeps what this package decides."""
