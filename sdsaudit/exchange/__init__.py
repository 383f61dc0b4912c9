"""Import and export: a model from where councils keep their processes, and back.

* :mod:`.data` turns a loaded :class:`~sdsaudit.model.objects.Model` into the plain data of
  the format (what every exporter writes from) and a :class:`~.data.Draft` (what every
  importer builds) into a commented format-1.1 model that the loader then checks;
* :mod:`.workbook` reads and writes the Excel template and CSV step lists;
* :mod:`.drawio` reads and writes diagrams.net files (which open Visio and Lucidchart);
* :mod:`.bpmn` reads and writes BPMN 2.0 XML.

Every XML file is read through defusedxml, every workbook through openpyxl (formulas as
their cached values); both are the optional extra ``sdsaudit[import]``.
"""
