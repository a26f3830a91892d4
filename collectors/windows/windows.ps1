# MIRROR STAGE REFLECTOR for Windows (Windows PowerShell 5.1 or PowerShell 7; CIM only,
# no module, no profile, nothing installed or written to disk). Started by
# collectors.windows.kind.launch(), which works whether the OpenSSH server's default shell
# is cmd or PowerShell. One request per line on stdin: "s" fast sample, "x" slow sample,
# "q" quit. Each answer is a frame as in collectors/reflector/linux.sh holding one section,
#   "@@C json 0 <bytes>" LF <bytes of UTF-8 JSON>
# whose object is described in collectors/windows/kind.py. Raw performance counters
# (Win32_PerfRawData_*) are cumulative, so EGO computes rates like on Linux.
$ErrorActionPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'
$utf8 = New-Object System.Text.UTF8Encoding $false
$stdout = [Console]::OpenStandardOutput()

function Send([string]$kind, $object) {
  $json = ConvertTo-Json -InputObject $object -Depth 4 -Compress
  $body = $utf8.GetBytes($json)
  $section = $utf8.GetBytes("@@C json 0 $($body.Length)`n")
  $head = $utf8.GetBytes("@@B $kind $($section.Length + $body.Length)`n")
  $tail = $utf8.GetBytes("@@E`n")
  foreach ($part in @($head, $section, $body, $tail)) { $stdout.Write($part, 0, $part.Length) }
  $stdout.Flush()
}

function Pick($rows, [string[]]$names) {
  @($rows | ForEach-Object { $row = $_; $o = [ordered]@{}; foreach ($n in $names) { $o[$n] = $row.$n }; $o })
}

function Fast {
  $os = Get-CimInstance Win32_OperatingSystem
  $o = [ordered]@{
    now_ms = [DateTimeOffset]::Now.ToUnixTimeMilliseconds()
    boot_ms = ([DateTimeOffset]$os.LastBootUpTime).ToUnixTimeMilliseconds()
    os = [ordered]@{
      TotalVisibleMemorySize = $os.TotalVisibleMemorySize; FreePhysicalMemory = $os.FreePhysicalMemory
      SizeStoredInPagingFiles = $os.SizeStoredInPagingFiles; FreeSpaceInPagingFiles = $os.FreeSpaceInPagingFiles
    }
    memory = Pick (Get-CimInstance Win32_PerfRawData_PerfOS_Memory) @('AvailableBytes', 'CacheBytes')
    cpu = Pick (Get-CimInstance Win32_PerfRawData_PerfOS_Processor) @('Name', 'PercentUserTime', 'PercentPrivilegedTime', 'PercentIdleTime', 'Timestamp_Sys100NS')
    net = Pick (Get-CimInstance Win32_PerfRawData_Tcpip_NetworkInterface) @('Name', 'BytesReceivedPersec', 'BytesSentPersec', 'PacketsReceivedPersec', 'PacketsSentPersec', 'PacketsReceivedErrors', 'PacketsOutboundErrors', 'PacketsReceivedDiscarded', 'PacketsOutboundDiscarded')
    disks = Pick (Get-CimInstance Win32_PerfRawData_PerfDisk_PhysicalDisk) @('Name', 'DiskReadBytesPersec', 'DiskWriteBytesPersec', 'DiskReadsPersec', 'DiskWritesPersec', 'PercentIdleTime', 'Timestamp_Sys100NS')
    thermal = Pick (Get-CimInstance -Namespace root/wmi MSAcpi_ThermalZoneTemperature) @('InstanceName', 'CurrentTemperature')
  }
  Send 's' $o
}

function Slow {
  $os = Get-CimInstance Win32_OperatingSystem
  $cs = Get-CimInstance Win32_ComputerSystem
  $o = [ordered]@{
    now_ms = [DateTimeOffset]::Now.ToUnixTimeMilliseconds()
    boot_ms = ([DateTimeOffset]$os.LastBootUpTime).ToUnixTimeMilliseconds()
    host = [ordered]@{
      Name = $cs.Name; Caption = $os.Caption; Version = $os.Version; OSArchitecture = $os.OSArchitecture
      NumberOfLogicalProcessors = $cs.NumberOfLogicalProcessors
    }
    cpu_model = @(Get-CimInstance Win32_Processor | ForEach-Object { $_.Name })
    volumes = Pick (Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=3') @('DeviceID', 'FileSystem', 'Size', 'FreeSpace', 'VolumeName')
    services = @(Get-CimInstance Win32_Service | ForEach-Object { [ordered]@{ Name = $_.Name; State = $_.State; StartMode = $_.StartMode; ExitCode = $_.ExitCode } })
  }
  Send 'x' $o
}

while ($true) {
  $req = [Console]::In.ReadLine()
  if ($null -eq $req -or $req -eq 'q') { break }
  switch ($req) { 's' { Fast } 'x' { Slow } default { Send '?' @{} } }
}
