"""wingbeat.core"""
