"""The bodies Slack sends an app, shaped as docs.slack.dev documents them.

- Slash commands: a form with token, team_id, team_domain, channel_id, channel_name, user_id,
  user_name, command, text, api_app_id, is_enterprise_install, response_url, trigger_id.
- Interactions: a form whose one field `payload` holds JSON: `block_actions` (user,
  container, message or view, actions[], state, response_url for messages, trigger_id),
  `view_submission` (view with `state.values[block_id][action_id]`), `shortcut`.
- Events API: a JSON `event_callback` envelope with event_id, event_time and authorizations;
  `url_verification` with a challenge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.slack.emulator.state import Json, View
from bot.slack.emulator.users import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, SlackUser

# Slack still sends the deprecated verification token; Bolt ignores it.
VERIFICATION_TOKEN = "emulatorverificationtoken"

_TEAM = {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def user_ref(user: SlackUser) -> Json:
    """The `user` object of interaction payloads."""
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}


def slash_command(
    user: SlackUser,
    *,
    command: str,
    text: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """The form fields of a slash command invocation."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user.id,
        "user_name": user.name,
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions(
    user: SlackUser,
    *,
    action: Json,
    container: Json,
    trigger_id: str,
    channel: Json | None = None,
    message: Json | None = None,
    view: Json | None = None,
    response_url: str | None = None,
) -> Json:
    """A `block_actions` payload for one action."""
    payload: Json = {
        "type": "block_actions",
        "user": user_ref(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id,
        "team": _TEAM,
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if channel is not None:
        payload["channel"] = channel
    if message is not None:
        payload["message"] = message
    if view is not None:
        payload["view"] = view
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def action(block_id: str, element: Json, *, action_ts: str, selected: str | None) -> Json:
    """The `actions[]` entry for a click on `element` (or a choice of `selected` in a select)."""
    entry: Json = {
        "type": element["type"],
        "action_id": element["action_id"],
        "block_id": block_id,
        "action_ts": action_ts,
    }
    if element["type"] == "button":
        entry["text"] = element.get("text")
        if "value" in element:
            entry["value"] = element["value"]
        if "style" in element:
            entry["style"] = element["style"]
    elif element["type"] in ("static_select", "overflow", "radio_buttons"):
        entry["selected_option"] = _option(element, selected)
    elif element["type"] == "datepicker":
        entry["selected_date"] = selected
    else:
        entry["value"] = selected
    return entry


def view_submission(user: SlackUser, view: View, values: Json, *, trigger_id: str) -> Json:
    """A `view_submission` payload for `view` filled in with `values`."""
    return {
        "type": "view_submission",
        "team": _TEAM,
        "user": user_ref(user),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view.to_api(values),
        "response_urls": [],
        "enterprise": None,
        "is_enterprise_install": False,
    }


def shortcut(user: SlackUser, *, callback_id: str, trigger_id: str, action_ts: str) -> Json:
    """A global `shortcut` payload."""
    return {
        "type": "shortcut",
        "token": VERIFICATION_TOKEN,
        "action_ts": action_ts,
        "team": _TEAM,
        "user": user_ref(user),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
    }


def state_values(view: View, values: Mapping[str, Any]) -> Json:
    """`state.values` for the view's input blocks, keyed block_id then action_id.

    `values` is keyed by action_id (or block_id); inputs left out are sent empty, as Slack
    sends an optional input nobody filled. A key matching no input is a mistake in the test.
    """
    unused = set(values)
    state: Json = {}
    for block in view.blocks:
        if block.get("type") != "input" or not isinstance(block.get("element"), dict):
            continue
        element = block["element"]
        block_id, action_id = str(block["block_id"]), str(element["action_id"])
        key = action_id if action_id in values else block_id
        unused.discard(key)
        state.setdefault(block_id, {})[action_id] = _input_state(element, values.get(key))
    if unused:
        raise KeyError(f"no input in view {view.id} for {sorted(unused)}")
    return state


def _input_state(element: Json, given: Any) -> Json:
    kind = element["type"]
    text = None if given is None else str(given)
    single = {
        "datepicker": "selected_date",
        "timepicker": "selected_time",
        "users_select": "selected_user",
        "conversations_select": "selected_conversation",
        "channels_select": "selected_channel",
    }
    if kind in single:
        return {"type": kind, single[kind]: text}
    if kind in ("static_select", "radio_buttons"):
        return {"type": kind, "selected_option": _option(element, text)}
    if kind in ("multi_static_select", "checkboxes"):
        chosen = [] if given is None else [str(v) for v in given]
        return {"type": kind, "selected_options": [_option(element, v) for v in chosen]}
    return {"type": kind, "value": text}


def _option(element: Json, value: str | None) -> Json | None:
    if value is None:
        return None
    for option in element.get("options") or []:
        if option.get("value") == value:
            return dict(option)
    raise KeyError(f"{element.get('action_id')} has no option {value!r}")


def event_callback(event: Json, *, event_id: str, event_time: int) -> Json:
    """The Events API envelope around `event`."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{event_id}",
    }


def url_verification(challenge: str) -> Json:
    """The handshake Slack sends when a request URL is saved."""
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
