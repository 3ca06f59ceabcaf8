"""The kiosk's Kivy screens and widgets: they only show core state and forward touches.

Screens live in their own modules with a ``.kv`` file of the same name
(enrollment, queue, job_view, settings, poster); shared widgets in
widgets.py/.kv, the page preview in page_viewer/page_stage/watermark. Import
the Kivy modules only after ``kiosk.app.configure_kivy`` (full screen, no
multitouch emulation, no exit on Esc). ``format``, ``screen_size`` and
``sound.chime_wav`` have no Kivy import and are tested directly.
"""
