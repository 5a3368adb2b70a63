from trainjobs.cli.main import app

app()
