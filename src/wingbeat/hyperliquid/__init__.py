"""wingbeat.hyperliquid"""
