"""wingbeat.sim"""
