"""The course's tools: tasks (data), explorers (widgets), plots, analysis, symbolic
algebra, interop with other toolkits and sampling."""
