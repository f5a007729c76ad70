"""Switchable misbehaviour: the switches (``switches``) and what a step answers while one is on (``answers``)."""
