"""Official documents built from the bot's data: the self-development plan as PDF and XLSX."""
