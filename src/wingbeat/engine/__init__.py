"""wingbeat.engine"""
