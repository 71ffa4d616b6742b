"""Preview environments: a pull request's changed services as tagged, traffic-free revisions of a base environment.

- ``names``      the preview name (a Cloud Run traffic tag), the labels its revisions carry
- ``inventory``  the previews that exist, read from the services' traffic tags (the source of truth)
- ``removal``    removing previews: their tags, then the revisions only they used
- ``outputs``    the URLs written for CI (``.shipit/previews/NAME.json``, ``$GITHUB_OUTPUT``)

The deploy side is the pipeline step :mod:`shipit.steps.preview`.
"""
