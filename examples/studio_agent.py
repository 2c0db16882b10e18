"""A MegaNova Studio agent: its info, a conversation, and a tool call it asks to confirm.

MEGANOVA_AGENT_KEY=agent_... python examples/studio_agent.py
(MEGANOVA_STUDIO_BASE_URL points it at another Studio API, e.g. the local server's root URL)
"""

from __future__ import annotations

import os

from meganova.cloud import CloudAgent

with CloudAgent(base_url=os.environ.get("MEGANOVA_STUDIO_BASE_URL")) as agent:  # the key: MEGANOVA_AGENT_KEY
    info = agent.info()
    print(info.name, "-", info.welcome_message)
    conversation = agent.conversation()
    print(conversation.chat("Hello!").response)
    reply = conversation.chat("Please use your booking tool: a table at the noodle stand")
    if conversation.pending_tool_call is not None:
        print("the agent asks to run", conversation.pending_tool_call.tool_name)
        reply = conversation.confirm()
    print(reply.response)
