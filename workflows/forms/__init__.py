"""Forms, chat-neutral: what a form asks for, the flows that open it and what its submission
does. Each platform only draws a `Form` (a Slack modal, a Teams card) and hands back what was
typed into it, by field name."""
