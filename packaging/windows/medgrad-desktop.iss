; Inno Setup script of the MedGrad Desktop installer for Windows.
;
; Build on Windows, after `pyinstaller build.spec --noconfirm` has made dist\medgrad-desktop\:
;   iscc /DAppVersion=0.1.0 packaging\windows\medgrad-desktop.iss
; Output: dist\medgrad-desktop-<version>-setup.exe. Installs per user (no admin rights needed)
; or for all users; uninstalling removes the program folder, not the user's data
; (%LOCALAPPDATA%\MedGradDesktop: sessions, ratings, training runs).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "MedGrad Desktop"
#define AppExe "medgrad-desktop.exe"
#define RepoRoot "..\.."

[Setup]
AppId={{6B3C1F2E-9A4D-4C8E-B7D1-5E2F0A9C3D71}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=MedGrad Desktop developers
AppComments=Review CLIP attribution maps of skin-lesion images. Research use only.
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#RepoRoot}\dist
OutputBaseFilename=medgrad-desktop-{#AppVersion}-setup
SetupIconFile={#RepoRoot}\resources\icons\icon.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "german"; MessagesFile: "compiler:Languages\German.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#RepoRoot}\dist\medgrad-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; files the app may create next to itself at run time (never the user's data)
Type: filesandordirs; Name: "{app}\_internal"
