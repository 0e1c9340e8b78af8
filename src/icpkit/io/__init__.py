"""Reading inputs: file formats, CRM export headers, value normalisation."""
