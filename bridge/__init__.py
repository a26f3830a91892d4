"""Bridges from EGO to the rest of the house: Home Assistant over MQTT (``bridge.mqtt``).

A bridge follows the live hub the way the API's WebSocket does; it never sits in the poll
path, so a slow or absent broker cannot delay polling.
"""
