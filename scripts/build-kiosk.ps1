<#
.SYNOPSIS
  Build the CloudTab kiosk for Windows as a one-folder bundle, dist\cloudtab-kiosk\cloudtab-kiosk.exe,
  from packaging\kiosk.spec (the same spec as Linux), and optionally smoke-test it.

.DESCRIPTION
  Run from any folder, in PowerShell 5.1 or 7, with Python 3.11 on PATH (or -Python):

    .\scripts\build-kiosk.ps1 -Install          # pip install the kiosk and PyInstaller (into a .venv-win venv)
    .\scripts\build-kiosk.ps1                   # build dist\cloudtab-kiosk
    .\scripts\build-kiosk.ps1 -SkipBuild -Smoke # start the bundle once, save a screenshot, check it

  The smoke test runs "cloudtab-kiosk.exe --smoke-test <png>" with KIVY_GL_BACKEND=angle_sdl2
  (Direct3D through ANGLE, which also works without a GPU) and a fresh data folder; it must
  exit 0 and report the enrollment screen. The screenshot and its JSON report are written to
  artifacts\screenshots\bundle\enrollment-windows.png / .json.

  Written for the windows-latest GitHub runner (.github/workflows/kiosk-windows.yml); it was
  not run on Windows by the people who wrote it (see docs\kiosk-install.md).
#>
param(
  [switch]$Install,
  [switch]$SkipBuild,
  [switch]$Smoke,
  [string]$Python = ""
)
$ErrorActionPreference = "Stop"
$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root

if (-not $Python) {
  $venvPython = Join-Path $Root ".venv-win\Scripts\python.exe"
  if (Test-Path $venvPython) { $Python = $venvPython } else { $Python = "python" }
}

function Invoke-Checked([string]$What, [scriptblock]$Block) {
  & $Block
  if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" }
}

if ($Install) {
  if (-not (Test-Path (Join-Path $Root ".venv-win"))) {
    Invoke-Checked "creating .venv-win" { & $Python -m venv (Join-Path $Root ".venv-win") }
  }
  $Python = Join-Path $Root ".venv-win\Scripts\python.exe"
  Invoke-Checked "pip upgrade" { & $Python -m pip install --upgrade pip }
  # kivy pulls kivy-deps.sdl2 / glew / angle on Windows by itself.
  Invoke-Checked "pip install" { & $Python -m pip install -c constraints.txt -e ".[kiosk]" pyinstaller }
}

if (-not $SkipBuild) {
  $env:KIVY_NO_ARGS = "1"
  $env:KIVY_NO_FILELOG = "1"
  $env:KIVY_NO_CONSOLELOG = "1"
  $env:KIVY_USE_DEFAULTCONFIG = "1"
  $env:KIVY_HOME = Join-Path $Root "build\pyinstaller\kivy-home"
  $env:PYTHONPATH = "$Root;$Root\generated"
  $started = Get-Date
  Invoke-Checked "PyInstaller" {
    & $Python -m PyInstaller --noconfirm --clean --log-level WARN `
      --distpath dist --workpath build\pyinstaller packaging\kiosk.spec
  }
  Remove-Item Env:PYTHONPATH
  $exe = Join-Path $Root "dist\cloudtab-kiosk\cloudtab-kiosk.exe"
  if (-not (Test-Path $exe)) { throw "$exe was not produced" }
  $bytes = (Get-ChildItem -Recurse -File (Join-Path $Root "dist\cloudtab-kiosk") | Measure-Object -Property Length -Sum).Sum
  "build-kiosk: built dist\cloudtab-kiosk in {0:N0} s; size {1:N1} MiB" -f ((Get-Date) - $started).TotalSeconds, ($bytes / 1MB)
}

if ($Smoke) {
  $exe = Join-Path $Root "dist\cloudtab-kiosk\cloudtab-kiosk.exe"
  $outDir = Join-Path $Root "artifacts\screenshots\bundle"
  New-Item -ItemType Directory -Force $outDir | Out-Null
  $shot = Join-Path $outDir "enrollment-windows.png"
  $report = Join-Path $outDir "enrollment-windows.json"
  Remove-Item -ErrorAction SilentlyContinue $shot, $report
  # A clean environment for the bundle: no Python of ours on PATH or PYTHONPATH.
  Remove-Item -ErrorAction SilentlyContinue Env:PYTHONPATH, Env:PYTHONHOME, Env:VIRTUAL_ENV
  $env:KIVY_GL_BACKEND = "angle_sdl2"
  $env:CLOUDTAB_KIOSK_SMOKE_T0 = ([DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds() / 1000.0).ToString([Globalization.CultureInfo]::InvariantCulture)
  $started = Get-Date
  # The kiosk is a windowed program: Start-Process -Wait is how to get its exit code.
  $proc = Start-Process -FilePath $exe -ArgumentList @("--smoke-test", "`"$shot`"", "--timeout", "120") -Wait -PassThru
  $wall = ((Get-Date) - $started).TotalSeconds
  $consoleLog = Join-Path $env:LOCALAPPDATA "CloudTab\kiosk\kiosk-console.log"
  if (Test-Path $consoleLog) { Get-Content -Tail 80 $consoleLog }
  if (-not (Test-Path $report)) { throw "the smoke test wrote no report (exit code $($proc.ExitCode))" }
  $result = Get-Content -Raw $report | ConvertFrom-Json
  $result | ConvertTo-Json -Depth 5
  if ($proc.ExitCode -ne 0) { throw "smoke test exit code $($proc.ExitCode): $($result.error)" }
  if (-not $result.ok) { throw "smoke test failed: $($result.error)" }
  if ($result.screen -ne "enrollment") { throw "expected the enrollment screen, got '$($result.screen)'" }
  # Not blank: the grey levels of a grid of pixels must vary (same threshold as tests/bundle).
  Add-Type -AssemblyName System.Drawing
  $bmp = [System.Drawing.Bitmap]::FromFile($shot)
  try {
    $grey = for ($y = 0; $y -lt $bmp.Height; $y += 8) {
      for ($x = 0; $x -lt $bmp.Width; $x += 8) {
        $c = $bmp.GetPixel($x, $y); ($c.R * 299 + $c.G * 587 + $c.B * 114) / 1000.0
      }
    }
  } finally { $bmp.Dispose() }
  $mean = ($grey | Measure-Object -Average).Average
  $stdev = [math]::Sqrt((($grey | ForEach-Object { ($_ - $mean) * ($_ - $mean) }) | Measure-Object -Average).Average)
  if ($stdev -lt 10) { throw ("the screenshot looks blank (grey stdev {0:N1})" -f $stdev) }
  "smoke: enrollment shown; first frame after $($result.first_frame_seconds) s; whole run {0:N1} s" -f $wall
}
