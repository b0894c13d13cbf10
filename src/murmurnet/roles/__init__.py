"""Role sets (YAML, Japanese and English) and their assignment to a question's agents."""

from murmurnet.roles.assignment import Role, agent_temperature, assign_roles, available_roles

__all__ = ["Role", "agent_temperature", "assign_roles", "available_roles"]
