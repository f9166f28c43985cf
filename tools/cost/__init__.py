"""What an environment costs a month on AWS: its real settings, measured usage, public prices."""
